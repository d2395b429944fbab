/**
 * The hardware fingerprint a license is bound to: a few components, each the digest of one stable
 * hardware id (never the id itself, so serials do not travel in licenses or telemetry).
 *
 *   hfp1:board=<16 hex>,disk=<16 hex>,mac=<16 hex>
 *
 * board: Raspberry Pi / Jetson serial or the x86 DMI product UUID; disk: the boot disk's serial
 * (eMMC/SD CID, NVMe or SATA serial); mac: the first permanent MAC address. A licensed fingerprint
 * matches a device when at least min(2, n) of its n components agree, so replacing one part (a
 * network card, a disk) keeps the license while moving it to other hardware does not.
 */
import { createHash } from "node:crypto";
import { HearthError } from "../errors.ts";

export const FINGERPRINT_KINDS = ["board", "disk", "mac"] as const;
export type FingerprintKind = (typeof FINGERPRINT_KINDS)[number];

export interface FingerprintComponent {
  kind: FingerprintKind;
  /** 16 lowercase hex characters. */
  digest: string;
}

export interface Fingerprint {
  version: 1;
  /** In FINGERPRINT_KINDS order, at most one per kind. */
  components: FingerprintComponent[];
}

const PREFIX = "hfp1:";

/** The digest of one raw hardware id; values are trimmed and lowercased first so sources agree. */
export function componentDigest(kind: FingerprintKind, rawValue: string): string {
  return createHash("sha256").update(`hearth-fingerprint-v1|${kind}|${rawValue.trim().toLowerCase()}`).digest("hex").slice(0, 16);
}

export function formatFingerprint(fp: Fingerprint): string {
  return PREFIX + fp.components.map((c) => `${c.kind}=${c.digest}`).join(",");
}

/** Parses `hfp1:...`; throws invalid_request naming `field` and what is wrong. */
export function parseFingerprint(text: string, field = "fingerprint"): Fingerprint {
  const fail = (why: string): never => {
    throw new HearthError("invalid_request", `${field}: ${why} (expected hfp1:board=<16 hex>,disk=<16 hex>,mac=<16 hex>, one or more components)`, { field });
  };
  if (typeof text !== "string" || !text.startsWith(PREFIX)) fail("does not start with hfp1:");
  const parts = text.slice(PREFIX.length).split(",");
  const seen = new Set<string>();
  const components: FingerprintComponent[] = [];
  for (const part of parts) {
    const m = /^([a-z]+)=([0-9a-f]{16})$/.exec(part);
    if (!m) fail(`component "${part}" is not kind=<16 lowercase hex>`);
    const kind = m![1] as FingerprintKind;
    if (!FINGERPRINT_KINDS.includes(kind)) fail(`unknown component kind "${kind}"`);
    if (seen.has(kind)) fail(`component kind "${kind}" appears twice`);
    seen.add(kind);
    components.push({ kind, digest: m![2]! });
  }
  components.sort((a, b) => FINGERPRINT_KINDS.indexOf(a.kind) - FINGERPRINT_KINDS.indexOf(b.kind));
  return { version: 1, components };
}

export interface FingerprintMatch {
  matches: boolean;
  matched: number;
  required: number;
}

/** Whether the device still is the licensed hardware: min(2, n) of the licensed n components agree. */
export function matchFingerprint(licensed: Fingerprint, device: Fingerprint): FingerprintMatch {
  const have = new Map(device.components.map((c) => [c.kind, c.digest]));
  const matched = licensed.components.filter((c) => have.get(c.kind) === c.digest).length;
  const required = Math.min(2, licensed.components.length);
  return { matches: required > 0 && matched >= required, matched, required };
}
