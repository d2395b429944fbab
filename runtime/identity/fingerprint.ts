/**
 * Reads this box's hardware fingerprint (format and match policy: fingerprint-format.ts). It is a
 * pure function of the hardware: never /etc/machine-id (cloned images share it) nor anything in the
 * data dir, so it survives reinstalling the image and differs between boxes flashed from one image.
 */
import { RootFs } from "../../board/root-fs.ts";
import { componentDigest, FINGERPRINT_KINDS, type Fingerprint, type FingerprintKind } from "./fingerprint-format.ts";
import type { FingerprintSource } from "./fingerprint-schema.ts";
import type { IdReading } from "./id-search.ts";
import { readBoardId } from "./board-id.ts";
import { readDiskId } from "./disk-id.ts";
import { readMacId } from "./mac-id.ts";
import { liveIdentitySystemInfo, type IdentitySystemInfo } from "./system-info.ts";

export type { IdentitySystemInfo } from "./system-info.ts";
export type { FingerprintSource } from "./fingerprint-schema.ts";

export interface CollectFingerprintOptions {
  /** Where the board's files are: "/" (default) on the box, a fixture or a copied dump otherwise. */
  root?: string;
  /** Second opinions and root-only DMI ids. Defaults to systeminformation on the live root only. */
  systemInfo?: IdentitySystemInfo;
}

export interface FingerprintCollection {
  /** The components found; empty when nothing was readable (then no license can bind). */
  fingerprint: Fingerprint;
  /** One per kind in FINGERPRINT_KINDS order, present or not, saying where the id came from or why it is missing. */
  sources: FingerprintSource[];
}

/** A reader that throws (a bug, content nobody foresaw) costs its component, never the fingerprint. */
async function safely(read: () => IdReading | Promise<IdReading>): Promise<IdReading> {
  try {
    return await read();
  } catch (err) {
    return { value: null, source: "reader failed", note: `reading failed: ${(err as Error)?.message ?? String(err)}` };
  }
}

/** Reads the board, disk and MAC ids under `root` and digests them. Never throws for missing or odd files. */
export async function collectFingerprint(opts: CollectFingerprintOptions = {}): Promise<FingerprintCollection> {
  const fs = new RootFs(opts.root ?? "/");
  const systemInfo = opts.systemInfo ?? (fs.isLive ? liveIdentitySystemInfo : undefined);
  const readings: Record<FingerprintKind, IdReading> = {
    board: await safely(() => readBoardId(fs, systemInfo)),
    disk: await safely(() => readDiskId(fs)),
    mac: await safely(() => readMacId(fs, systemInfo)),
  };
  const fingerprint: Fingerprint = { version: 1, components: [] };
  const sources: FingerprintSource[] = [];
  for (const kind of FINGERPRINT_KINDS) {
    const { value, source, note } = readings[kind];
    if (value !== null) fingerprint.components.push({ kind, digest: componentDigest(kind, value) });
    sources.push({ kind, present: value !== null, source, ...(note ? { note } : {}) });
  }
  return { fingerprint, sources };
}
