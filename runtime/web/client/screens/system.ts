/** System: the allow-listed settings (applied at the next restart), restart and factory reset. */
import { get, post, put } from "../api.ts";
import { fill, h } from "../dom.ts";
import { actionButton, field, form, message, type Field } from "../forms.ts";
import type { ScreenContext } from "../shell.ts";
import type { FactoryResetResponse, Restart, SettingsResponse } from "../types.ts";
import { card, confirmAction, loading } from "../ui.ts";

type Setting = SettingsResponse["settings"][number];
type Json = { type?: string; minimum?: number; maximum?: number; anyOf?: { const?: unknown }[]; enum?: unknown[] };

/** An input matching the setting's JSON Schema: checkbox, number with bounds, choice or text. */
function settingField(s: Setting): Field {
  const schema = s.schema as Json;
  const value = s.stored ?? s.inForce;
  const about = s.description === s.path ? "" : s.description;
  const hint = `${about}${s.stored !== null && s.stored !== s.inForce ? ` (in force now: ${String(s.inForce)})` : ""}`;
  if (schema.type === "boolean") {
    const f = field({ name: s.path, label: s.path, type: "checkbox", hint, attrs: { checked: value === true } });
    f.root.classList.add("check");
    return f;
  }
  if (schema.type === "integer" || schema.type === "number") {
    return field({ name: s.path, label: s.path, type: "number", value: String(value), hint, attrs: { min: schema.minimum, max: schema.maximum, step: schema.type === "integer" ? 1 : "any", inputmode: "numeric" } });
  }
  const choices = (schema.anyOf?.map((c) => c.const) ?? schema.enum ?? []).filter((c) => typeof c === "string");
  if (choices.length > 0) return field({ name: s.path, label: s.path, value: String(value), hint, choices });
  return field({ name: s.path, label: s.path, value: String(value), hint, attrs: { spellcheck: "false", autocomplete: "off" } });
}

function parse(s: Setting, raw: string): unknown {
  const type = (s.schema as Json).type;
  if (type === "boolean") return raw === "true";
  if (type === "integer" || type === "number") return raw.trim() === "" ? raw : Number(raw);
  return raw;
}

function settingsCard(first: SettingsResponse): HTMLElement {
  const saved = message("ok");
  const fields = first.settings.map(settingField);
  const el = form({
    fields,
    submit: "Save settings",
    onSubmit: async (values) => {
      saved.show(null);
      const changed: Record<string, unknown> = {};
      for (const s of first.settings) {
        const v = parse(s, values[s.path] ?? "");
        if (v !== (s.stored ?? s.inForce)) changed[s.path] = v;
      }
      if (Object.keys(changed).length === 0) return saved.show("Nothing changed.");
      const result = await put<SettingsResponse>("/settings", changed);
      first.settings = result.settings;
      saved.show(result.restartRequired ? "Saved. The settings apply at the next restart." : "Saved.");
    },
  }, { "aria-label": "Settings" });
  return card("Settings", el, saved.root);
}

function restartCard(): HTMLElement {
  const errors = message("error");
  const done = message("ok");
  const restart = actionButton(
    "Restart",
    async () => {
      if (!(await confirmAction("Restart the server?", "Requests in progress finish first; the API is unavailable for a few seconds.", "Restart"))) return;
      const result = await post<Restart>("/restart", {});
      done.show(result.message);
    },
    errors.show,
  );
  return card("Restart", h("p", null, "Applies stored settings, telemetry changes and an installed license."), errors.root, done.root, h("div", { class: "actions" }, restart));
}

function resetCard(): HTMLElement {
  const errors = message("error");
  const result = h("div", { role: "status" });
  const reset = actionButton(
    "Factory reset",
    async () => {
      if (!(await confirmAction("Factory reset this box?", "The admin password, sessions, admin tokens and all API keys are removed. Models, the license, the usage ledger and the device identity are kept.", "Factory reset"))) return;
      const r = await post<FactoryResetResponse>("/factory-reset", { confirm: "factory-reset" });
      const again = h("button", { type: "button", class: "primary" }, "Pair again");
      again.addEventListener("click", () => location.reload());
      fill(result, h("p", null, r.message), h("p", null, `Removed: ${r.cleared.join(", ")}.`), h("p", null, `Kept: ${r.kept.join(", ")}.`), again);
      actions.remove();
    },
    errors.show,
    { class: "danger" },
  );
  const actions = h("div", { class: "actions" }, reset);
  return card("Factory reset", h("p", null, "For handing the box to someone else. A new pairing code is printed to the box's log."), errors.root, result, actions);
}

export async function renderSystem(ctx: ScreenContext): Promise<void> {
  const grid = h("div", { class: "grid" }, loading());
  ctx.main.append(grid);
  const settings = await get<SettingsResponse>("/settings");
  if (!ctx.signal.aborted) fill(grid, settingsCard(settings), restartCard(), resetCard());
}
