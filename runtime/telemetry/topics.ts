/**
 * The versioned topic scheme, shared by the box and the collector:
 *
 *   hearth/v1/<fleet>/<device>/state      retained birth "online"; Last Will "offline"
 *   hearth/v1/<fleet>/<device>/health     systeminformation snapshots
 *   hearth/v1/<fleet>/<device>/usage      usage-ledger deltas with sequence numbers
 *   hearth/v1/<fleet>/<device>/audit      signed ledger checkpoints
 *   hearth/v1/<fleet>/<device>/ota        update state events (OTA)
 *   hearth/v1/<fleet>/<device>/cmd        signed fleet commands, to the box
 *   hearth/v1/<fleet>/<device>/cmd/ack    the box's answer to each command
 *   hearth/v1/<fleet>/<device>/receipt    to the box: usage and audit ids the collector stored
 *   hearth/v1/<fleet>/group/<group>/cmd   commands to every box of a group
 */
export const TOPIC_ROOT = "hearth/v1";
export const DEVICE_CHANNELS = ["state", "health", "usage", "audit", "ota", "cmd", "cmd/ack", "receipt"] as const;
export type DeviceChannel = (typeof DEVICE_CHANNELS)[number];

export function deviceTopic(fleet: string, device: string, channel: DeviceChannel): string {
  return `${TOPIC_ROOT}/${fleet}/${device}/${channel}`;
}

export function groupCommandTopic(fleet: string, group: string): string {
  return `${TOPIC_ROOT}/${fleet}/group/${group}/cmd`;
}

/** What the collector subscribes to: every device's telemetry, split among collectors by the broker. */
export const COLLECTOR_SHARE = "collectors";
export function collectorSubscription(share = COLLECTOR_SHARE): string {
  return `$share/${share}/${TOPIC_ROOT}/+/+/#`;
}

export interface ParsedTopic {
  fleet: string;
  device: string;
  channel: DeviceChannel;
}

/** Parses a device topic; null for anything else (group topics, foreign topics, unknown channels). */
export function parseDeviceTopic(topic: string): ParsedTopic | null {
  const parts = topic.split("/");
  if (parts.length < 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT || parts[3] === "group") return null;
  const channel = parts.slice(4).join("/");
  if (!(DEVICE_CHANNELS as readonly string[]).includes(channel)) return null;
  return { fleet: parts[2]!, device: parts[3]!, channel: channel as DeviceChannel };
}
