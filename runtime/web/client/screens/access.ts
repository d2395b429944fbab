/** Access: change the admin password, and admin tokens for automation (shown once, revocable). */
import { del, get, post, put } from "../api.ts";
import { fill, h } from "../dom.ts";
import { field, form, message } from "../forms.ts";
import { dateTime } from "../format.ts";
import type { ScreenContext } from "../shell.ts";
import type { AdminToken, AdminTokenListResponse, CreatedToken, PasswordChangeRequest } from "../types.ts";
import { badge, card, dataTable, loading, revealSecret, revokeButton } from "../ui.ts";

function passwordCard(): HTMLElement {
  const done = message("ok");
  const current = field({ name: "current", label: "Current password", type: "password", attrs: { autocomplete: "current-password", required: true } });
  const next = field({ name: "next", label: "New password", type: "password", hint: "At least 8 characters.", attrs: { autocomplete: "new-password", required: true } });
  const repeat = field({ name: "repeat", label: "Repeat the new password", type: "password", attrs: { autocomplete: "new-password", required: true } });
  const el = form({
    fields: [current, next, repeat],
    submit: "Change password",
    check: (v) => (v.next !== v.repeat ? { field: "repeat", message: "The passwords do not match." } : null),
    onSubmit: async (v, f) => {
      done.show(null);
      const body: PasswordChangeRequest = { current: v.current!, next: v.next! };
      await put("/password", body);
      f.reset();
      done.show("Password changed. Other sessions were signed out.");
    },
  }, { "aria-label": "Change the admin password" });
  return card("Admin password", el, done.root);
}

function tokensCard(ctx: ScreenContext): HTMLElement {
  const errors = message("error");
  const list = h("div", null, loading());
  const revealed = h("div");
  const refresh = async () => {
    const { tokens } = await get<AdminTokenListResponse>("/tokens");
    if (ctx.signal.aborted) return;
    const revoke = (t: AdminToken) =>
      t.revokedAt
        ? null
        : revokeButton(t.name, "Automation using this token loses access at once.", async () => {
            await del(`/tokens/${encodeURIComponent(t.id)}`);
            await refresh();
          }, errors.show);
    fill(
      list,
      dataTable<AdminToken>(
        "Admin tokens",
        [
          { label: "Name", cell: (t) => h("strong", null, t.name) },
          { label: "Token", cell: (t) => h("code", null, `${t.prefix}…`) },
          { label: "Created", cell: (t) => dateTime(t.createdAt) },
          { label: "Last used", cell: (t) => dateTime(t.lastUsedAt) },
          { label: "Status", cell: (t) => (t.revokedAt ? badge("revoked", "neutral") : badge("active", "ok")) },
          { label: "Actions", cell: revoke },
        ],
        tokens,
        "No admin tokens.",
      ),
    );
  };
  const name = field({ name: "name", label: "Token name", hint: "What the automation is, e.g. the reseller's tool.", attrs: { autocomplete: "off", required: true, maxlength: 64 } });
  const create = form({
    fields: [name],
    submit: "Create token",
    onSubmit: async (_v, f) => {
      const created = await post<CreatedToken>("/tokens", { name: name.input.value.trim() });
      f.reset();
      fill(revealed, revealSecret({ region: "New admin token", title: `Token “${created.name}” created.`, label: "Admin token", secret: created.token, onDone: () => fill(revealed) }));
      await refresh();
    },
  }, { "aria-label": "Create an admin token" });
  void refresh().catch((err: Error) => errors.show(err.message));
  return h("section", { class: "card wide" }, h("h2", null, "Admin tokens"), h("p", null, "For scripts and resellers' tools: send as ", h("code", null, "Authorization: Bearer <token>"), " to /admin/api."), create, revealed, errors.root, list);
}

export async function renderAccess(ctx: ScreenContext): Promise<void> {
  ctx.main.append(h("div", { class: "grid" }, passwordCard(), tokensCard(ctx)));
}
