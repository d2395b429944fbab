/** Telemetry: the owner's opt-in, the broker and fleet (stored, applied at the next restart) and the link's status. */
import { get, put } from "../api.ts";
import { fill, h } from "../dom.ts";
import { field, form, message } from "../forms.ts";
import { count } from "../format.ts";
import type { ScreenContext } from "../shell.ts";
import type { TelemetrySettings, TelemetryUpdate } from "../types.ts";
import { badge, card, facts, loading } from "../ui.ts";

function statusCard(t: TelemetrySettings): HTMLElement {
  const st = t.status;
  const waiting = Object.entries(st.outbox as Record<string, unknown>).filter(([, n]) => typeof n === "number");
  return card(
    "Connection",
    facts([
      ["Broker", st.broker ?? "none configured: messages wait on the box"],
      ["State", st.connected ? badge("connected", "ok") : st.started ? badge("not connected", "warn") : badge("off", "neutral")],
      ["Last error", st.lastError],
      ["Waiting to send", waiting.length === 0 ? "nothing" : waiting.map(([ch, n]) => `${ch} ${count(n as number)}`).join(", ")],
    ]),
  );
}

function settingsForm(t: TelemetrySettings, onSaved: (t: TelemetrySettings) => void): HTMLElement {
  const next = t.next;
  const saved = message("ok");
  const enabled = field({ name: "enabled", label: "Send state and health to the fleet", type: "checkbox", hint: "Usage counts only, never prompts, answers or keys. A Community box sends nothing without this.", attrs: { checked: next.enabled } });
  enabled.root.classList.add("check");
  const broker = field({ name: "broker", label: "Broker URL", value: next.broker ?? "", hint: "mqtt:// or mqtts://. Leave empty to keep telemetry on the box.", attrs: { placeholder: "mqtts://broker.example:8883", autocomplete: "off", spellcheck: "false", inputmode: "url" } });
  const fleet = field({ name: "fleet", label: "Fleet", value: next.fleet, attrs: { autocomplete: "off", spellcheck: "false", required: true } });
  const el = form({
    fields: [enabled, broker, fleet],
    submit: "Save",
    onSubmit: async (v) => {
      saved.show(null);
      const body: TelemetryUpdate = { enabled: v.enabled === "true", broker: v.broker!.trim() === "" ? null : v.broker!.trim(), fleet: v.fleet!.trim() };
      const result = await put<TelemetrySettings>("/telemetry", body);
      saved.show(result.restartRequired ? "Saved. The change applies at the next restart (System → Restart)." : "Saved.");
      onSaved(result);
    },
  }, { "aria-label": "Telemetry settings" });
  return card("Settings", el, saved.root, t.restartRequired ? h("p", { class: "message message-info", role: "status" }, "Stored changes apply at the next restart.") : null);
}

export async function renderTelemetry(ctx: ScreenContext): Promise<void> {
  const status = h("div", null, loading());
  const settings = h("div");
  ctx.main.append(h("div", { class: "grid" }, settings, status));
  const first = await get<TelemetrySettings>("/telemetry");
  fill(settings, settingsForm(first, (t) => fill(status, statusCard(t))));
  // Only the status refreshes on its own; the form keeps what the user is typing.
  ctx.poll(5000, async () => {
    const t = await get<TelemetrySettings>("/telemetry");
    if (!ctx.signal.aborted) fill(status, statusCard(t));
  });
}
