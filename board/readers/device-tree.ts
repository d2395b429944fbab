import type { RootFs } from "../root-fs.ts";
import { quote, type EvidenceLog } from "../evidence.ts";

export interface DeviceTree {
  /** /proc/device-tree/model without its trailing NUL, e.g. "Raspberry Pi 5 Model B Rev 1.0". */
  model: string | null;
  /** /proc/device-tree/compatible split on NULs, most specific first: board, module, SoC. */
  compatible: string[];
}

const MODEL = "/proc/device-tree/model";
const COMPATIBLE = "/proc/device-tree/compatible";

/**
 * Device-tree properties are NUL-terminated strings; a string list is several of them back to back.
 * A dump kept as text (the test fixtures, a copy pasted from a board) writes each NUL as the two
 * characters \0; those are accepted too, so `hearth board --root <dump>` works on either.
 */
export function splitDeviceTreeStrings(raw: string): string[] {
  return raw.split(/\0|\\0/).map((s) => s.trim()).filter((s) => s !== "" && /^[\x20-\x7e]+$/.test(s));
}

export function readDeviceTree(fs: RootFs, evidence: EvidenceLog): DeviceTree {
  const rawModel = fs.text(MODEL);
  const model = rawModel === null ? null : (splitDeviceTreeStrings(rawModel)[0] ?? null);
  if (model !== null) evidence.add(MODEL, quote(model));
  else if (rawModel !== null) evidence.note(`${MODEL} exists but holds no readable string`);

  const compatible = splitDeviceTreeStrings(fs.text(COMPATIBLE) ?? "");
  if (compatible.length > 0) evidence.add(COMPATIBLE, compatible.join(", "));
  return { model, compatible };
}
