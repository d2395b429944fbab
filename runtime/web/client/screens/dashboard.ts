/** Dashboard: the box's health, its models and the tokens it served per day. */
import { get } from "../api.ts";
import { tokensChart } from "../chart.ts";
import { fill, h } from "../dom.ts";
import { bytes, count, duration } from "../format.ts";
import type { ScreenContext } from "../shell.ts";
import type { Health, StatusResponse, UsageResponse } from "../types.ts";
import { badge, card, facts, loading, meter } from "../ui.ts";

const MB = 1024 * 1024;

function healthCard(status: StatusResponse): HTMLElement {
  const health: Health | null = status.health;
  if (!health) return card("Health", h("p", { class: "muted" }, status.healthError ? `No health sample: ${status.healthError}` : "The first health sample is being taken."));
  const mem = health.memory;
  const disk = health.disk;
  return card(
    "Health",
    meter("CPU load", health.cpuLoadPercent / 100, `${Math.round(health.cpuLoadPercent)} %`),
    meter("Memory", mem.totalMB > 0 ? mem.usedMB / mem.totalMB : 0, `${bytes(mem.usedMB * MB)} of ${bytes(mem.totalMB * MB)}`),
    meter("Disk (data)", disk.totalMB > 0 ? disk.usedMB / disk.totalMB : 0, `${bytes(disk.usedMB * MB)} of ${bytes(disk.totalMB * MB)}`),
    facts([
      ["Temperatures", health.temperaturesC.length === 0 ? "no sensor" : health.temperaturesC.map((t) => `${t.zone} ${Math.round(t.celsius)} °C`).join(", ")],
      ["Throttling", health.throttled ? badge("throttled (heat or power)", "bad") : badge("none", "ok")],
      ["Sampled", new Date(health.sampledAt).toLocaleTimeString()],
    ]),
  );
}

function stateBadge(state: string): HTMLElement {
  return badge(state, state === "ready" ? "ok" : state === "loading" ? "neutral" : "bad");
}

function modelsCard(status: StatusResponse): HTMLElement {
  const rows = status.models.map((m) =>
    h(
      "li",
      { class: "model" },
      h("div", { class: "model-head" }, h("strong", { class: "mono" }, m.id), stateBadge(m.state)),
      m.slots ? h("p", { class: "muted" }, `${m.slots.busy} of ${m.slots.total} slots busy, ${m.slots.queued} waiting`) : null,
      m.reason ? h("p", { class: "muted" }, m.reason) : null,
    ),
  );
  return card(
    "Models",
    rows.length === 0 ? h("p", { class: "muted" }, "No model is configured yet.") : h("ul", { class: "plain" }, rows),
    status.kernel ? facts([["llama.cpp build", `${status.kernel.id} (${status.kernel.backend})`], ["Fallback", status.kernel.fallbackReason]]) : null,
  );
}

function boxCard(status: StatusResponse): HTMLElement {
  return card(
    "This box",
    facts([
      ["Board", status.board ? status.board.name : "detecting…"],
      ["Version", status.version],
      ["Running for", duration(status.uptimeSeconds)],
      ["License", status.license ? `${status.license.tier} (${status.license.reason})` : "reading…"],
    ]),
  );
}

export async function renderDashboard(ctx: ScreenContext): Promise<void> {
  const status = h("div", { class: "grid" }, loading());
  const tokens = h("section", { class: "card wide", "aria-labelledby": "tokens-title" }, h("h2", { id: "tokens-title" }, "Tokens served, last 14 days"), loading());
  ctx.main.append(status, tokens);
  let lastUsage = "";
  let sampled = false;
  // Every 5 s; every second until the box's first health sample (taken just after start) is in.
  ctx.poll(() => (sampled ? 5000 : 1000), async () => {
    const [s, usage] = await Promise.all([get<StatusResponse>("/status"), get<UsageResponse>("/usage?days=14")]);
    if (ctx.signal.aborted) return;
    sampled = s.health !== null;
    fill(status, healthCard(s), modelsCard(s), boxCard(s));
    // Redraw the chart only when the numbers change, so an open table or a hovered bar stays put.
    const key = JSON.stringify(usage.perDay);
    if (key === lastUsage) return;
    lastUsage = key;
    const t = usage.totals;
    fill(
      tokens,
      h("h2", { id: "tokens-title" }, "Tokens served, last 14 days"),
      h("p", { class: "totals" }, `${count(t.promptTokens + t.completionTokens)} tokens in ${count(t.requests)} requests`),
      tokensChart(usage.perDay, "Tokens per day"),
    );
  });
}
