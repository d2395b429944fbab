/**
 * A real HTTP file server on loopback port 0 for download tests: serves one file with ETag and
 * Range / If-Range, and misbehaves on request — per request, in order, from `faults`.
 *
 * Written on raw TCP (node:net) rather than Bun.serve so faults are exact: a drop after N bytes
 * sends exactly N bytes and then closes, whatever the client has buffered.
 */
import { createServer, type Server, type Socket } from "node:net";
import { sha256 } from "./helpers.ts";

export interface Fault {
  /** Answer with this status and no body. */
  status?: number;
  /**
   * Send this many body bytes, then close the connection. The body has no Content-Length (it is
   * delimited by the close), so the client sees exactly these bytes and then an early end.
   */
  dropAfter?: number;
  /**
   * Declare the full Content-Length, send this many bytes, then close: the client's fetch errors
   * the body and may drop what it had buffered but not yet handed out (as after a real reset).
   */
  cutAfter?: number;
  /** Send this many body bytes, then nothing (until the client gives up). */
  stallAfter?: number;
  /** Bytes beyond the requested range, streamed ("endless": never stops). */
  extra?: number | "endless";
  /** Answer with a body larger than the file and a Content-Length saying so. */
  declareExtra?: number;
  /** A Content-Range header that does not match the bytes requested. */
  contentRange?: string;
  /** Ignore Range: answer 200 with the whole file. */
  ignoreRange?: boolean;
  /** Ignore If-Range: answer 206 even when the validator differs. */
  ignoreIfRange?: boolean;
  /** Set the file's ETag (as if it changed on disk) before answering. */
  etag?: string;
  /** Replace the file's content before answering (with `etag`: a new version of the file). */
  data?: Uint8Array;
  /** Drip the body: this many bytes per piece, `delayMs` apart. */
  drip?: { bytes: number; delayMs: number };
}

export interface LoggedRequest {
  path: string;
  range: string | null;
  ifRange: string | null;
  status: number;
}

export class FileServer {
  readonly requests: LoggedRequest[] = [];
  /** Faults for the next requests, one each, in order; then well-behaved. */
  readonly faults: Fault[] = [];
  /** Responses the client went away from before the server finished them (a dropped connection). */
  cancelled = 0;
  etag = '"v1"';
  /** The one path the file is served at; any other is a 404. */
  readonly path = "/model.gguf";
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly ready: Promise<void>;

  private constructor(public data: Uint8Array) {
    this.server = createServer((socket) => this.accept(socket));
    this.ready = new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
  }

  static async start(data: Uint8Array): Promise<FileServer> {
    const s = new FileServer(data);
    await s.ready;
    return s;
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  get sha256(): string {
    return sha256(this.data);
  }

  url(path = this.path): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  stop(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    let head = "";
    const onData = (b: Buffer) => {
      head += b.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      const [line, ...rest] = head.slice(0, end).split("\r\n");
      const headers = new Map(rest.map((h) => [h.slice(0, h.indexOf(":")).trim().toLowerCase(), h.slice(h.indexOf(":") + 1).trim()]));
      void this.respond(socket, (line ?? "").split(" ")[1] ?? "/", headers);
    };
    socket.on("data", onData);
  }

  private async respond(socket: Socket, target: string, h: Map<string, string>): Promise<void> {
    const fault = this.faults.shift() ?? {};
    if (fault.etag) this.etag = fault.etag;
    if (fault.data) this.data = fault.data;
    const range = h.get("range") ?? null;
    const ifRange = h.get("if-range") ?? null;
    const log = (status: number) => this.requests.push({ path: target.split("?")[0]!, range, ifRange, status });
    const status0 = fault.status ?? (target.split("?")[0] === this.path ? null : 404);
    if (status0 !== null) {
      log(status0);
      return this.send(socket, status0, {}, new Uint8Array(0), fault);
    }
    const size = this.data.byteLength;
    const m = /^bytes=(\d+)-(\d*)$/.exec(range ?? "");
    const useRange = m && !fault.ignoreRange && (ifRange === null || ifRange === this.etag || fault.ignoreIfRange);
    const start = useRange ? Number(m[1]) : 0;
    const end = useRange && m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    if (start >= size) {
      log(416);
      return this.send(socket, 416, { "content-range": `bytes */${size}` }, new Uint8Array(0), fault);
    }
    const status = useRange ? 206 : 200;
    log(status);
    const headers: Record<string, string> = { etag: this.etag, "accept-ranges": "bytes" };
    if (useRange) headers["content-range"] = fault.contentRange ?? `bytes ${start}-${end}/${size}`;
    return this.send(socket, status, headers, this.data.subarray(start, end + 1), fault);
  }

  private async send(socket: Socket, status: number, headers: Record<string, string>, body: Uint8Array, fault: Fault): Promise<void> {
    const endless = fault.extra === "endless";
    const total = endless ? Infinity : body.byteLength + (typeof fault.extra === "number" ? fault.extra : 0) + (fault.declareExtra ?? 0);
    // Content-Length as the server means it; an endless or over-long body is delimited by the close.
    const declared = fault.declareExtra !== undefined ? total : body.byteLength;
    const lengthHeader = fault.extra === undefined && fault.dropAfter === undefined ? `content-length: ${declared}\r\n` : "";
    const head = `HTTP/1.1 ${status} X\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}${lengthHeader}connection: close\r\n\r\n`;
    if (!(await this.write(socket, Buffer.from(head, "latin1")))) return;
    const stopAt = Math.min(fault.dropAfter ?? Infinity, fault.cutAfter ?? Infinity, fault.stallAfter ?? Infinity, total);
    const piece = fault.drip?.bytes ?? 64 * 1024;
    for (let sent = 0; sent < stopAt; ) {
      if (fault.drip) await Bun.sleep(fault.drip.delayMs);
      const n = Math.min(piece, stopAt - sent);
      // Past the real bytes: filler, which a client must never accept.
      const out = sent < body.byteLength ? body.subarray(sent, Math.min(sent + n, body.byteLength)) : new Uint8Array(n).fill(0x41);
      if (!(await this.write(socket, out))) return void this.cancelled++;
      sent += out.byteLength;
    }
    if (fault.stallAfter !== undefined && stopAt === fault.stallAfter && stopAt < total) {
      socket.once("close", () => this.cancelled++); // hold the connection open, send nothing
      return;
    }
    socket.end();
  }

  /** Writes, waiting for the kernel to take the bytes; false once the client has gone. */
  private write(socket: Socket, bytes: Uint8Array): Promise<boolean> {
    if (socket.destroyed || !socket.writable) return Promise.resolve(false);
    return new Promise((resolve) => socket.write(bytes, (err) => resolve(!err)));
  }
}
