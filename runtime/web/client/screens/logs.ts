/** Recent structured log records (the runtime never logs prompts, answers or keys), newest first. */
import { get } from "../api.ts";
import { fill, h, uid } from "../dom.ts";
import { logTime } from "../format.ts";
import type { ScreenContext } from "../shell.ts";
import type { LogEntry, Logs } from "../types.ts";
import { badge, dataTable, loading } from "../ui.ts";

const RANK = { debug: 0, info: 1, warn: 2, error: 3 } as const;
const TONE = { debug: "neutral", info: "neutral", warn: "warn", error: "bad" } as const;

function fieldsText(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("  ");
}

export async function renderLogs(ctx: ScreenContext): Promise<void> {
  const levelId = uid("level");
  const level = h("select", { id: levelId }, h("option", { value: "debug" }, "Everything"), h("option", { value: "info", selected: true }, "Info and above"), h("option", { value: "warn" }, "Warnings and errors"), h("option", { value: "error" }, "Errors only"));
  const list = h("div", { class: "logs" }, loading());
  let records: LogEntry[] = [];
  const show = () => {
    const min = RANK[level.value as keyof typeof RANK];
    const shown = records.filter((r) => RANK[r.level] >= min).reverse();
    fill(
      list,
      dataTable<LogEntry>(
        "Log records, newest first",
        [
          { label: "Time", cell: (r) => h("time", { datetime: r.time, class: "nowrap" }, logTime(r.time)) },
          { label: "Level", cell: (r) => badge(r.level, TONE[r.level]) },
          { label: "Message", cell: (r) => r.msg },
          { label: "Details", cell: (r) => h("code", { class: "wrap" }, fieldsText(r.fields)) },
        ],
        shown,
        "No records at this level.",
      ),
    );
  };
  level.addEventListener("change", show);
  ctx.main.append(h("div", { class: "toolbar" }, h("div", { class: "field inline" }, h("label", { for: levelId }, "Show"), level), h("p", { class: "hint" }, "Refreshes every 5 seconds.")), list);
  ctx.poll(5000, async () => {
    const latest = await get<Logs>("/logs?limit=200");
    if (ctx.signal.aborted) return;
    const changed = JSON.stringify(latest.records.at(-1)) !== JSON.stringify(records.at(-1)) || latest.records.length !== records.length;
    records = latest.records;
    if (changed) show();
  });
}
