import { mkdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Command } from "../command.ts";
import { DATA_DIR_OPTION, JSON_OPTION } from "../command.ts";
import { commandConfig } from "../config-flags.ts";
import { HearthError } from "../../errors.ts";
import { systemClock } from "../../clock.ts";
import { createLogger } from "../../log.ts";
import { openDatabase } from "../../store/db.ts";

export const calibrateCommand: Command = {
  path: ["calibrate"],
  summary: "Measure llama.cpp settings for a model on this unit, keep the fastest, write a performance certificate",
  options: {
    model: { type: "string", value: "FILE", description: "GGUF model to calibrate (default: the configured model)" },
    ...DATA_DIR_OPTION,
    ...JSON_OPTION,
  },
  async run(ctx) {
    const config = commandConfig(ctx, { "model.path": ctx.values.model });
    if (!config.model.path) throw new HearthError("invalid_request", "--model is required (or set model.path in the config)", { field: "model" });
    const modelPath = resolve(config.model.path);
    const logger = createLogger({ level: "warn" });
    const { inspectHardware } = await import("../../hardware.ts");
    const { board, kernel } = await inspectHardware({ allowGpu: config.model.gpu, logger });
    const { loadKernel } = await import("../../../kernels/load.ts");
    const { smokeTest } = await import("../../engine/smoke-test.ts");
    const { runCalibration } = await import("../../calibration/run.ts");
    const { certificateMarkdown } = await import("../../calibration/certificate.ts");
    const loaded = await loadKernel(kernel, { logger, smokeTest });
    const db = openDatabase(config.dataDir);
    const tty = process.stderr.isTTY === true;
    try {
      const cert = await runCalibration(
        db,
        modelPath,
        {
          board: { kind: board.kind, name: board.name },
          kernel: { id: loaded.active.id, backend: loaded.active.backend, cpuVariant: loaded.active.cpuVariant },
          llama: loaded.llama,
          cores: board.cpu.performanceCores || board.cpu.cores || 1,
        },
        {
          clock: systemClock,
          contextSize: config.model.contextSize,
          onProgress: (done, total, p) => {
            const line = `calibrating ${basename(modelPath)}: ${done}/${total}  threads ${p.threads}, batch ${p.batchSize}, flash attention ${p.flashAttention ? "on" : "off"}: ${p.tgTokPerSec.toFixed(1)} tok/s generation, ${p.ppTokPerSec.toFixed(0)} tok/s prompt`;
            process.stderr.write(tty ? `\r\u001b[2K${line}${done === total ? "\n" : ""}` : `${line}\n`);
          },
        },
      );
      const dir = join(resolve(config.dataDir), "certificates");
      mkdirSync(dir, { recursive: true });
      const stem = join(dir, `${cert.date.replaceAll(":", "-")}-${basename(modelPath, ".gguf")}`);
      writeFileSync(`${stem}.json`, JSON.stringify(cert, null, 2));
      writeFileSync(`${stem}.md`, certificateMarkdown(cert));
      if (ctx.values.json) ctx.io.out(JSON.stringify({ ...cert, files: { json: `${stem}.json`, markdown: `${stem}.md` } }));
      else {
        const s = cert.settings;
        ctx.io.out(
          [
            `Calibrated ${basename(modelPath)} on ${board.name} with ${loaded.active.id} in ${(cert.durationMs / 1000).toFixed(1)} s:`,
            `  ${s.threads} threads, batch ${s.batchSize}, flash attention ${s.flashAttention ? "on" : "off"}, ${s.gpuLayers} GPU layers`,
            `  generation ${cert.tgTokPerSec.toFixed(1)} tok/s, prompt ${cert.ppTokPerSec.toFixed(1)} tok/s`,
            `Certificate: ${stem}.md`,
          ].join("\n"),
        );
      }
      return 0;
    } finally {
      db.close();
      await loaded.llama.dispose();
    }
  },
};
