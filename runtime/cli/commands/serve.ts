import type { Command } from "../command.ts";
import { DATA_DIR_OPTION } from "../command.ts";
import { commandConfig } from "../config-flags.ts";
import { intFlag } from "../run.ts";
import { createLogger, LogRing, type Logger } from "../../log.ts";
import { systemClock } from "../../clock.ts";
import { startServer } from "../../server.ts";
import { openDatabase } from "../../store/db.ts";
import { storedOverrides } from "../../admin/overrides.ts";
import { ServeLoop } from "../../admin/serve-loop.ts";
import type { Config } from "../../config/schema.ts";

/** Settings stored by fleet commands (config.set) and the admin API, applied over the config file. */
function overridesIn(dataDir: string): Record<string, unknown> {
  const db = openDatabase(dataDir);
  try {
    return storedOverrides(db);
  } finally {
    db.close();
  }
}

export const serveCommand: Command = {
  path: ["serve"],
  summary: "Serve the OpenAI-compatible API for a GGUF model",
  options: {
    model: { type: "string", value: "FILE", description: "GGUF model to serve (default: a generated demo model)" },
    "model-id": { type: "string", value: "ID", description: "Model id in the API (default: file name)" },
    ...DATA_DIR_OPTION,
    host: { type: "string", value: "ADDR", description: "Listen address (default 127.0.0.1)" },
    port: { type: "string", value: "N", description: "TCP port; 0 picks a free one (default 8080)" },
    parallel: { type: "string", value: "N", description: "Parallel generation slots" },
    "queue-size": { type: "string", value: "N", description: "Requests that may wait for a slot" },
    "context-size": { type: "string", value: "N", description: "Context tokens per slot" },
    "max-tokens": { type: "string", value: "N", description: "Most tokens generated per request" },
    threads: { type: "string", value: "N", description: "Inference threads (0 = chosen by model size)" },
    "memory-budget-mb": { type: "string", value: "MB", description: "Memory the model may use (default: the board profile's budget)" },
    "no-calibrate": { type: "boolean", description: "Do not calibrate before serving when no calibration is stored" },
    "open-inference": { type: "boolean", description: "Serve inference without API keys (trusted LAN only)" },
    broker: { type: "string", value: "URL", description: "MQTT broker for telemetry (mqtt:// or mqtts://); without one, telemetry waits in the outbox" },
  },
  async run(ctx) {
    const v = ctx.values;
    const flags = {
      "model.path": v.model,
      "model.id": v["model-id"],
      "server.host": v.host,
      "server.port": intFlag(v, "port"),
      "model.parallel": intFlag(v, "parallel"),
      "model.queueSize": intFlag(v, "queue-size"),
      "model.contextSize": intFlag(v, "context-size"),
      "model.maxTokens": intFlag(v, "max-tokens"),
      "model.threads": intFlag(v, "threads"),
      "model.memoryBudgetMB": intFlag(v, "memory-budget-mb"),
      "calibration.auto": v["no-calibrate"] ? false : undefined,
      "auth.openInference": v["open-inference"] ? true : undefined,
      "telemetry.broker": v.broker,
    };
    // The data dir comes from config, and stored overrides live in its database: load once to find
    // it, then again with the overrides layered in. Each admin restart loads afresh.
    const loadConfig = (): Config => {
      const base = commandConfig(ctx, flags);
      const overrides = overridesIn(base.dataDir);
      return Object.keys(overrides).length > 0 ? commandConfig(ctx, flags, overrides) : base;
    };
    // One ring across restarts, so the admin page's logs show what happened before a restart too.
    const logs = new LogRing();
    let logger: Logger = createLogger({ level: "info", ring: logs });
    const loop = new ServeLoop({
      loadConfig,
      logger,
      start: (config, restart) => {
        logger = createLogger({ level: config.log.level, ring: logs });
        return startServer(config, { logger, clock: systemClock, admin: { restart, logs, console: (line) => ctx.io.out(line) } });
      },
    });
    const first = await loop.start();
    try {
      await first.ready;
    } catch (err) {
      await loop.stop();
      throw err;
    }
    const dataDir = loadConfig().dataDir;
    ctx.io.out(
      [
        `Hearth is serving model "${first.engine.model.id}" at ${first.url}/v1`,
        `Admin page:         ${first.url}/ (API: ${first.url}/admin/api/docs)`,
        `Create an API key:  npm run hearth -- keys create --name my-app --data-dir ${dataDir}`,
        `Then:               curl ${first.url}/v1/models -H "Authorization: Bearer <key>"`,
      ].join("\n"),
    );
    return new Promise<number>((resolve) => {
      const shutdown = (signal: string) => {
        logger.info("stopping", { signal });
        void loop.stop().then(() => resolve(0));
      };
      process.once("SIGINT", () => shutdown("SIGINT"));
      process.once("SIGTERM", () => shutdown("SIGTERM"));
    });
  },
};
