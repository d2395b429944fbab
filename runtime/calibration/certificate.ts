import { Type, type Static } from "@sinclair/typebox";

const Point = Type.Object({
  threads: Type.Integer(),
  batchSize: Type.Integer(),
  flashAttention: Type.Boolean(),
  gpuLayers: Type.Integer(),
  ppTokPerSec: Type.Number(),
  tgTokPerSec: Type.Number(),
});

/** The box's performance certificate: what a reseller prints and a fleet admin compares. */
export const CertificateSchema = Type.Object({
  format: Type.Literal("hearth-performance-certificate/1"),
  date: Type.String({ description: "ISO 8601 time of the measurement" }),
  runtimeVersion: Type.String(),
  board: Type.Object({ kind: Type.String(), name: Type.String() }),
  kernel: Type.Object({ id: Type.String(), backend: Type.String(), cpuVariant: Type.Union([Type.String(), Type.Null()]) }),
  model: Type.Object({
    file: Type.String(),
    sha256: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    quantization: Type.Union([Type.String(), Type.Null()]),
    parameters: Type.Integer(),
    sizeBytes: Type.Integer(),
  }),
  settings: Type.Object({ threads: Type.Integer(), batchSize: Type.Integer(), flashAttention: Type.Boolean(), gpuLayers: Type.Integer() }),
  ppTokPerSec: Type.Number({ description: "Prompt processing with the chosen settings" }),
  tgTokPerSec: Type.Number({ description: "Generation with the chosen settings" }),
  peakMemoryBytes: Type.Integer({ description: "Peak resident memory of the calibrating process" }),
  durationMs: Type.Integer(),
  grid: Type.Array(Point),
});
export type Certificate = Static<typeof CertificateSchema>;

const f1 = (x: number) => x.toFixed(1);

export function certificateMarkdown(c: Certificate): string {
  const rows = c.grid.map(
    (p) =>
      `| ${p.threads} | ${p.batchSize} | ${p.flashAttention ? "on" : "off"} | ${p.gpuLayers} | ${f1(p.ppTokPerSec)} | ${f1(p.tgTokPerSec)} |` +
      (p.threads === c.settings.threads && p.batchSize === c.settings.batchSize && p.flashAttention === c.settings.flashAttention && p.gpuLayers === c.settings.gpuLayers
        ? " chosen |"
        : " |"),
  );
  return [
    `# Hearth performance certificate`,
    ``,
    `| | |`,
    `| --- | --- |`,
    `| Date | ${c.date} |`,
    `| Runtime | ${c.runtimeVersion} |`,
    `| Board | ${c.board.name} (${c.board.kind}) |`,
    `| Kernel build | ${c.kernel.id} (${c.kernel.backend}${c.kernel.cpuVariant ? `, ${c.kernel.cpuVariant}` : ""}) |`,
    `| Model | ${c.model.name ?? c.model.file} (${c.model.quantization ?? "?"}, ${(c.model.parameters / 1e6).toFixed(1)}M parameters) |`,
    `| Model sha256 | \`${c.model.sha256}\` |`,
    `| Prompt processing | ${f1(c.ppTokPerSec)} tokens/s |`,
    `| Generation | ${f1(c.tgTokPerSec)} tokens/s |`,
    `| Peak memory | ${(c.peakMemoryBytes / 1048576).toFixed(0)} MiB |`,
    `| Settings | ${c.settings.threads} threads, batch ${c.settings.batchSize}, flash attention ${c.settings.flashAttention ? "on" : "off"}, ${c.settings.gpuLayers} GPU layers |`,
    ``,
    `## Every setting measured (${(c.durationMs / 1000).toFixed(1)} s)`,
    ``,
    `| threads | batch | flash attention | GPU layers | prompt tok/s | generation tok/s | |`,
    `| --- | --- | --- | --- | --- | --- | --- |`,
    ...rows,
    ``,
  ].join("\n");
}
