import { randomBytes } from "node:crypto";
import type { Clock } from "../clock.ts";

/**
 * A message id, unique per device: a channel prefix, the time (so ids sort roughly by creation
 * when read by a person) and 48 random bits. The collector stores a message once per id.
 */
export function messageId(prefix: string, clock: Clock): string {
  return `${prefix}-${clock.now().toString(36)}-${randomBytes(6).toString("hex")}`;
}
