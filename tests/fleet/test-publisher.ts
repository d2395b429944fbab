/**
 * A device publisher for fault tests: QoS 1 with its own retry queue. A message leaves the queue
 * only on its PUBACK; after a lost connection a new client resends every unacknowledged message,
 * oldest first, then goes on. (The production outbox does the same from SQLite; this one keeps
 * the queue in memory, enough for a broker that dies.)
 */
import mqtt, { type MqttClient } from "mqtt";

export interface OutgoingMessage {
  topic: string;
  payload: string;
}

export class RetryingPublisher {
  private readonly unacked = new Map<number, OutgoingMessage>();
  private readonly queue: number[] = [];
  private readonly messages: OutgoingMessage[] = [];
  private client: MqttClient | null = null;
  private inFlight = 0;
  private stopped = false;
  private idle: (() => void) | null = null;
  acked = 0;
  connections = 0;

  constructor(
    private readonly url: string,
    private readonly clientId: string,
    private readonly opts: { window?: number; reconnectDelayMs?: number } = {},
  ) {}

  /** Queues messages and sends them; resolves when every message ever queued is acknowledged. */
  async publishAll(messages: OutgoingMessage[]): Promise<void> {
    for (const m of messages) {
      const i = this.messages.push(m) - 1;
      this.unacked.set(i, m);
      this.queue.push(i);
    }
    const done = new Promise<void>((resolve) => (this.idle = resolve));
    if (!this.client) void this.connect();
    else this.pump();
    await done;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client?.endAsync(true);
  }

  private async connect(): Promise<void> {
    while (!this.stopped) {
      try {
        const client = await mqtt.connectAsync(this.url, { protocolVersion: 5, clientId: this.clientId, clean: true, reconnectPeriod: 0, connectTimeout: 2000 });
        this.connections++;
        this.client = client;
        this.inFlight = 0;
        // Whatever was sent and not acknowledged goes again, in order, before anything new.
        this.queue.splice(0, this.queue.length, ...[...this.unacked.keys()].sort((a, b) => a - b));
        client.once("close", () => {
          if (this.client !== client) return;
          this.client = null;
          client.end(true);
          if (!this.stopped) void Bun.sleep(this.opts.reconnectDelayMs ?? 100).then(() => this.connect());
        });
        this.pump();
        return;
      } catch {
        await Bun.sleep(this.opts.reconnectDelayMs ?? 100);
      }
    }
  }

  private pump(): void {
    const client = this.client;
    while (client && client.connected && this.inFlight < (this.opts.window ?? 200) && this.queue.length > 0) {
      const i = this.queue.shift()!;
      if (!this.unacked.has(i)) continue;
      const m = this.messages[i]!;
      this.inFlight++;
      client.publish(m.topic, m.payload, { qos: 1 }, (err) => {
        if (this.client !== client) return; // an old connection's callbacks: its messages are queued again
        this.inFlight--;
        if (!err && this.unacked.delete(i)) this.acked++;
        else if (err) this.queue.unshift(i);
        if (this.unacked.size === 0) this.idle?.();
        else this.pump();
      });
    }
  }
}
