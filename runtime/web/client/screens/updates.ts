/**
 * Updates: state, progress, check / apply / rollback. Until OTA updates land the API answers 501,
 * and the page says so plainly instead of offering buttons that cannot work.
 */
import { ApiError, get, post } from "../api.ts";
import { fill, h } from "../dom.ts";
import { actionButton, message } from "../forms.ts";
import { percent } from "../format.ts";
import type { ScreenContext } from "../shell.ts";
import type { UpdatesState } from "../types.ts";
import { card, confirmAction, facts, loading } from "../ui.ts";

const BUSY = new Set(["checking", "downloading", "applying", "verifying", "staging", "switching", "health-check"]);

function unavailable(err: ApiError): HTMLElement {
  return card(
    "Updates are not available yet",
    h("p", { class: "message message-info", role: "status", "data-testid": "updates-unavailable" }, err.message),
    h("p", null, "This box keeps running its current release. Checking, applying and rolling back updates appear here once over-the-air updates are installed."),
    h("div", { class: "actions" }, ["Check for updates", "Apply update", "Roll back"].map((label) => h("button", { type: "button", disabled: true }, label))),
  );
}

function progressBar(u: UpdatesState): HTMLElement | null {
  if (u.progress === null && !BUSY.has(u.state)) return null;
  const text = u.progress === null ? "working…" : percent(u.progress);
  return h(
    "div",
    { class: "progress" },
    h("label", { for: "update-progress" }, `Progress: ${text}`),
    // Without a value the bar is indeterminate: the box is busy but cannot say how far it is.
    h("progress", { id: "update-progress", max: 1, value: u.progress ?? undefined }, text),
  );
}

function stateCard(u: UpdatesState, refresh: () => Promise<void>, errors: (t: string | null) => void): HTMLElement {
  const busy = BUSY.has(u.state);
  const run = (path: string) => async () => {
    await post<UpdatesState>(path, {});
    await refresh();
  };
  const rollback = async () => {
    if (await confirmAction("Roll back to the previous release?", "The box restarts on the release it ran before the last update.", "Roll back")) await run("/updates/rollback")();
  };
  return card(
    "Release",
    facts([
      ["State", u.state],
      ["Installed", u.current ?? "unknown"],
      ["Available", u.available ?? "none newer"],
      ["Message", u.message],
    ]),
    progressBar(u),
    h(
      "div",
      { class: "actions" },
      actionButton("Check for updates", run("/updates/check"), errors, { disabled: busy }),
      actionButton("Apply update", run("/updates/apply"), errors, { class: "primary", disabled: busy || u.available === null }),
      actionButton("Roll back", rollback, errors, { class: "danger", disabled: busy }),
    ),
  );
}

export async function renderUpdates(ctx: ScreenContext): Promise<void> {
  const errors = message("error");
  const body = h("div", null, loading());
  ctx.main.append(errors.root, body);
  let shown = "";
  // Re-render only when something changed, so focus and a button being pressed are left alone.
  const showOnce = (key: string, render: () => HTMLElement) => {
    if (key === shown || ctx.signal.aborted) return;
    shown = key;
    fill(body, render());
  };
  const refresh = async () => {
    let state: UpdatesState;
    try {
      state = await get<UpdatesState>("/updates");
    } catch (err) {
      if (err instanceof ApiError && err.status === 501) return showOnce(`501 ${err.message}`, () => unavailable(err));
      throw err;
    }
    showOnce(JSON.stringify(state), () => stateCard(state, refresh, errors.show));
  };
  // Often enough to move the progress bar smoothly; the state is cached on the box.
  ctx.poll(2000, refresh);
}
