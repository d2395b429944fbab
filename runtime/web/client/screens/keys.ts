/** API keys: create (the key shown once, with a copy button), list with totals, revoke, usage per day. */
import { del, get, post } from "../api.ts";
import { tokensChart } from "../chart.ts";
import { fill, h } from "../dom.ts";
import { actionButton, field, form, message } from "../forms.ts";
import { count, dateTime } from "../format.ts";
import type { ScreenContext } from "../shell.ts";
import type { ApiKey, ApiKeyListResponse, CreatedKeyResponse, KeyUsage } from "../types.ts";
import { badge, card, dataTable, loading, revealSecret, revokeButton } from "../ui.ts";

async function showUsage(panel: HTMLElement, key: ApiKey): Promise<void> {
  fill(panel, loading());
  const usage = await get<KeyUsage>(`/keys/${encodeURIComponent(key.id)}/usage?days=30`);
  const total = usage.perDay.reduce((sum, d) => ({ r: sum.r + d.requests, t: sum.t + d.promptTokens + d.completionTokens }), { r: 0, t: 0 });
  fill(
    panel,
    h("h3", null, `Usage of “${usage.name}”, last 30 days`),
    h("p", { class: "totals", "data-testid": "key-usage-totals" }, `${count(total.r)} requests, ${count(total.t)} tokens`),
    tokensChart(usage.perDay, `Tokens per day for ${usage.name}`),
  );
  panel.scrollIntoView({ block: "nearest" });
}

export async function renderKeys(ctx: ScreenContext): Promise<void> {
  const errors = message("error");
  const list = h("div", null, loading());
  const usagePanel = h("div", { class: "usage-panel", "aria-live": "polite" });
  const newKey = h("div");

  const refresh = async () => {
    const { keys } = await get<ApiKeyListResponse>("/keys");
    if (ctx.signal.aborted) return;
    const actions = (k: ApiKey) =>
      k.revokedAt
        ? null
        : h(
            "div",
            { class: "row-actions" },
            actionButton("Usage", () => showUsage(usagePanel, k), errors.show, { "aria-label": `Usage of ${k.name}` }),
            revokeButton(k.name, "Apps using this key stop working at once. This cannot be undone.", async () => {
              await del(`/keys/${encodeURIComponent(k.id)}`);
              await refresh();
            }, errors.show),
          );
    fill(
      list,
      dataTable<ApiKey>(
        "API keys",
        [
          { label: "Name", cell: (k) => h("strong", null, k.name) },
          { label: "Key", cell: (k) => h("code", null, `${k.prefix}…`) },
          { label: "Created", cell: (k) => dateTime(k.createdAt) },
          { label: "Requests", num: true, cell: (k) => count(k.requests) },
          { label: "Tokens", num: true, cell: (k) => count(k.promptTokens + k.completionTokens) },
          { label: "Status", cell: (k) => (k.revokedAt ? badge(`revoked ${dateTime(k.revokedAt)}`, "neutral") : badge("active", "ok")) },
          { label: "Actions", cell: actions },
        ],
        keys,
        "No API keys yet. Create one for each app that uses this box.",
      ),
    );
  };

  const name = field({ name: "name", label: "Name", hint: "What the key is for, e.g. the app's name.", attrs: { autocomplete: "off", required: true, maxlength: 64 } });
  const create = form({
    fields: [name],
    submit: "Create key",
    onSubmit: async (_values, el) => {
      const created = await post<CreatedKeyResponse>("/keys", { name: name.input.value.trim() });
      el.reset();
      const usage = h("p", { class: "hint" }, "Apps send it as ", h("code", null, "Authorization: Bearer <key>"), " to ", h("code", null, `${location.origin}/v1`), ".");
      fill(newKey, revealSecret({ region: "New API key", title: `Key “${created.name}” created.`, label: "API key", secret: created.key, extra: usage, onDone: () => fill(newKey) }));
      newKey.querySelector("input")?.focus();
      await refresh();
    },
  }, { "aria-label": "Create an API key" });

  const keysCard = h("section", { class: "card wide", "aria-labelledby": "keys-title" }, h("h2", { id: "keys-title" }, "Keys"), errors.root, list, usagePanel);
  ctx.main.append(h("div", { class: "grid" }, h("div", { class: "wide" }, card("Create a key", create, newKey)), keysCard));
  await refresh();
}
