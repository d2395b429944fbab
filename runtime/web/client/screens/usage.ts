/** Usage from the ledger: totals, tokens per day and per key over a chosen period. */
import { get } from "../api.ts";
import { tokensChart } from "../chart.ts";
import { fill, h, uid } from "../dom.ts";
import { errorText, message } from "../forms.ts";
import { count } from "../format.ts";
import type { ScreenContext } from "../shell.ts";
import type { UsageResponse } from "../types.ts";
import { card, dataTable, facts, loading } from "../ui.ts";

type KeyRow = UsageResponse["perKey"][number];
const PERIODS = [7, 30, 90, 365];

function render(usage: UsageResponse, days: number): HTMLElement[] {
  const t = usage.totals;
  return [
    card(
      "Totals",
      facts([
        ["Period", `${usage.from} to ${usage.to} (UTC)`],
        ["Requests", count(t.requests)],
        ["Prompt tokens", count(t.promptTokens)],
        ["Completion tokens", count(t.completionTokens)],
      ]),
    ),
    h("section", { class: "card wide" }, h("h2", null, "Tokens per day"), tokensChart(usage.perDay, `Tokens per day, last ${days} days`)),
    h(
      "section",
      { class: "card wide" },
      h("h2", null, "Per key"),
      dataTable<KeyRow>(
        "Usage per key",
        [
          { label: "Key", cell: (k) => (k.keyId === null ? h("em", null, "without a key (open inference)") : (k.name ?? k.keyId)) },
          { label: "Requests", num: true, cell: (k) => count(k.requests) },
          { label: "Prompt tokens", num: true, cell: (k) => count(k.promptTokens) },
          { label: "Completion tokens", num: true, cell: (k) => count(k.completionTokens) },
        ],
        usage.perKey,
        "No requests in this period.",
      ),
    ),
  ];
}

export async function renderUsage(ctx: ScreenContext): Promise<void> {
  const id = uid("period");
  const select = h("select", { id }, PERIODS.map((d) => h("option", { value: d, selected: d === 30 }, `Last ${d} days`)));
  const body = h("div", { class: "grid" }, loading());
  const load = async () => {
    const days = Number(select.value);
    const usage = await get<UsageResponse>(`/usage?days=${days}`);
    if (!ctx.signal.aborted) fill(body, render(usage, days));
  };
  const errors = message("error");
  select.addEventListener("change", () => {
    errors.show(null);
    load().catch((err) => errors.show(errorText(err)));
  });
  ctx.main.append(h("div", { class: "field inline" }, h("label", { for: id }, "Period"), select), errors.root, body);
  await load();
}
