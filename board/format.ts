import type { BoardReport, GpioPin } from "./schema.ts";
import { bytesText, celsiusText } from "./units.ts";

const row = (label: string, value: string) => `${label.padEnd(10)} ${value}`;
const pinText = (p: GpioPin | null) => (p ? `pin ${p.headerPin} (${p.name}, ${p.chip} line ${p.line})` : "none");

/** The report for people: what the board is, the profile with its reasons, and the evidence. */
export function formatBoardReport(r: BoardReport): string {
  const { cpu, profile: p } = r;
  const gpus = r.gpus.map((g) => `${g.name}${g.unifiedMemory ? ", unified memory" : g.vramBytes !== null ? `, ${bytesText(g.vramBytes)} VRAM` : ""}`);
  const storage = r.storage
    ? `${r.storage.device ?? "unknown device"} (${r.storage.medium}${r.storage.sizeBytes === null ? "" : `, ${bytesText(r.storage.sizeBytes)}`})`
    : "unknown";
  const zones = r.thermalZones.map((z) => `${z.type} ${z.milliCelsius === null ? "?" : celsiusText(z.milliCelsius)}`);
  const throttle =
    p.throttle.signal === "none"
      ? "no signal"
      : `${p.throttle.signal === "vcgencmd" ? "vcgencmd get_throttled" : "thermal zones"}` +
        `${p.throttle.zones.length ? ` watching ${p.throttle.zones.join(", ")}` : ""}`;
  const lines = [
    row("Board", `${r.name} → ${r.kind}${r.l4tRelease ? ` (Jetson Linux ${r.l4tRelease})` : ""}`),
    ...(r.fallbackReason ? [row("Why", r.fallbackReason)] : []),
    row("CPU", `${cpu.arch} ${cpu.model ?? "unknown model"}, ${cpu.cores} cores (${cpu.performanceCores} performance), ${cpu.features.join(" ") || "no vector features"}`),
    row("Memory", r.memoryBytes === null ? "unknown" : bytesText(r.memoryBytes)),
    row("GPU", gpus.join("; ") || "none"),
    row("Storage", storage),
    row("Thermal", zones.join(", ") || "no zones"),
    "",
    "Profile",
    row("  memory", `${bytesText(p.memoryBudgetBytes)} for model + KV cache: ${p.reasons.memory}`),
    row("  GPU", `${p.gpuPolicy}${p.vramBudgetBytes === null ? "" : ` (${bytesText(p.vramBudgetBytes)} of VRAM)`}: ${p.reasons.gpu}`),
    row("  threads", `${p.threads}: ${p.reasons.threads}`),
    row("  throttle", `${throttle}: ${p.reasons.throttle}`),
    row("  GPIO", `LED ${pinText(p.gpio.led)}, button ${pinText(p.gpio.button)}: ${p.reasons.gpio}`),
    "",
    "Evidence",
    ...r.evidence.map((e) => `  ${e.source}: ${e.says}`),
    ...(r.notes.length ? ["", "Notes", ...r.notes.map((n) => `  ${n}`)] : []),
  ];
  return lines.join("\n");
}
