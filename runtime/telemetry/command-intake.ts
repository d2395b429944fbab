/**
 * Fleet commands as telemetry sees them: payloads from the box's /cmd topic and its groups' topics
 * go to the CommandProcessor one at a time (in arrival order), and every answer becomes an ack on
 * /cmd/ack. Verifying and running commands is the processor's job (runtime/fleet/commands); here
 * nothing a payload contains can throw past this module.
 */
import type { Logger } from "../log.ts";
import type { CommandProcessor } from "./messages.ts";
import { deviceTopic, groupCommandTopic } from "./topics.ts";

export type CommandAnswer = Awaited<ReturnType<CommandProcessor["handle"]>>;

/** Larger payloads are refused unread: no command needs this much. */
export const MAX_COMMAND_BYTES = 256 * 1024;

export function commandTopics(fleet: string, device: string, groups: readonly string[]): string[] {
  return [deviceTopic(fleet, device, "cmd"), ...groups.map((g) => groupCommandTopic(fleet, g))];
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The command id in a payload, when it has a usable one, for acks of commands that failed early. */
export function commandIdOf(payload: Uint8Array): string | null {
  try {
    const id = (JSON.parse(new TextDecoder().decode(payload)) as { id?: unknown } | null)?.id;
    return typeof id === "string" && ID.test(id) ? id : null;
  } catch {
    return null;
  }
}

/** The processor until fleet commands are wired: every command is refused as unsupported. */
export const unsupportedCommands: CommandProcessor = {
  handle: async (payload) => ({
    commandId: commandIdOf(payload),
    outcome: "rejected",
    code: "unsupported",
    reason: "this box does not process fleet commands",
  }),
};

export class CommandIntake {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: {
      processor: CommandProcessor;
      /** Publishes the answer on /cmd/ack (through the outbox). */
      ack: (answer: CommandAnswer) => void;
      logger: Logger;
    },
  ) {}

  /** Queues a payload for the processor; never throws. */
  receive(payload: Uint8Array): void {
    this.chain = this.chain.then(() => this.handle(payload));
  }

  /** Resolves when every payload received so far has been answered. */
  settled(): Promise<void> {
    return this.chain;
  }

  private async handle(payload: Uint8Array): Promise<void> {
    let answer: CommandAnswer;
    if (payload.byteLength > MAX_COMMAND_BYTES) {
      answer = { commandId: null, outcome: "rejected", code: "malformed", reason: `the payload is larger than ${MAX_COMMAND_BYTES} bytes` };
    } else {
      try {
        answer = await this.opts.processor.handle(payload);
      } catch (err) {
        // The processor promises not to throw; if it does anyway, the sender still gets an answer.
        this.opts.logger.error("telemetry: the command processor failed", { error: (err as Error).message });
        answer = { commandId: commandIdOf(payload), outcome: "failed", code: "internal", reason: "the command could not be processed" };
      }
    }
    try {
      this.opts.ack(answer);
    } catch (err) {
      this.opts.logger.warn("telemetry: a command's answer did not fit the ack schema", { error: (err as Error).message });
      try {
        this.opts.ack({ commandId: commandIdOf(payload), outcome: "failed", code: "internal", reason: "the command's answer could not be sent" });
      } catch (again) {
        this.opts.logger.error("telemetry: could not queue a command ack", { error: (again as Error).message });
      }
    }
  }
}
