/**
 * `hearth serve` as a loop: start, and on an admin restart stop the server gracefully and start
 * it again in the same process with the configuration reloaded (stored settings included). The
 * port stays the one first bound when the config asks for any (0). A configuration that no longer
 * loads or starts is logged and the previous one is started again, so a bad setting cannot take
 * the box off the network.
 */
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log.ts";
import type { RunningServer } from "../server.ts";

export interface ServeLoopOptions {
  /** Builds the configuration for each start (file, stored overrides, environment, flags). */
  loadConfig: () => Config;
  /** Starts a server; `restart` is the hook its admin API calls. */
  start: (config: Config, restart: () => void) => Promise<RunningServer>;
  logger: Logger;
  /** Called after each restart with the new server. */
  onRestarted?: (server: RunningServer) => void;
}

export class ServeLoop {
  private server: RunningServer | null = null;
  private config: Config | null = null;
  private restarting: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly opts: ServeLoopOptions) {}

  get current(): RunningServer {
    if (!this.server) throw new Error("the server is not running");
    return this.server;
  }

  async start(): Promise<RunningServer> {
    this.config = this.opts.loadConfig();
    this.server = await this.opts.start(this.config, () => void this.restart());
    return this.server;
  }

  /** Stops and starts again; a restart asked for while one runs joins it. */
  restart(): Promise<void> {
    this.restarting ??= this.cycle().finally(() => (this.restarting = null));
    return this.restarting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.restarting;
    await this.server?.stop();
    this.server = null;
  }

  private async cycle(): Promise<void> {
    if (this.stopped || !this.server || !this.config) return;
    const previous = { ...this.config, server: { ...this.config.server, port: this.server.port } };
    await this.server.stop();
    this.server = null;
    let next: Config = previous;
    try {
      const loaded = this.opts.loadConfig();
      next = loaded.server.port === 0 ? { ...loaded, server: { ...loaded.server, port: previous.server.port } } : loaded;
    } catch (err) {
      this.opts.logger.error("restart: the configuration does not load; starting with the previous one", { error: (err as Error).message });
    }
    try {
      this.server = await this.opts.start(next, () => void this.restart());
    } catch (err) {
      if (next === previous) throw err;
      this.opts.logger.error("restart: the new configuration did not start; starting with the previous one", { error: (err as Error).message });
      next = previous;
      this.server = await this.opts.start(next, () => void this.restart());
    }
    this.config = next;
    this.opts.logger.info("restarted", { url: this.server.url });
    this.opts.onRestarted?.(this.server);
  }
}
