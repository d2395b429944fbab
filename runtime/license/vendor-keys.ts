/**
 * The vendor public keys a runtime trusts, by key id. Rotation: a new key is added, the old one is
 * marked retired and stays listed, so its licenses are refused as `retired_key` rather than
 * `unknown_key` (the customer then knows to ask for a reissue). Private keys never enter the image.
 */
import type { Static } from "@sinclair/typebox";
import type { VendorKeyConfig } from "../config/schema.ts";

export type VendorKey = Static<typeof VendorKeyConfig>;

export const BUILTIN_VENDOR_KEYS: readonly VendorKey[] = [
  { keyId: "hearth-vendor-2026-1", publicKey: "C3WYQx21FuV1T5oyIJQDJrHOdkK/JVwbhp+hb0Guim0=", retired: false },
];

/** Config `license.vendorKeys`, when not empty, replaces the built-in list (tests, private fleets). */
export function trustedVendorKeys(configured: readonly VendorKey[] = []): readonly VendorKey[] {
  return configured.length > 0 ? configured : BUILTIN_VENDOR_KEYS;
}

export type VendorKeyLookup = { status: "unknown" } | { status: "retired"; key: VendorKey } | { status: "active"; key: VendorKey };

/** A key id listed twice counts as retired if either entry is: retiring must not be undone by a stale duplicate. */
export function lookupVendorKey(keys: readonly VendorKey[], keyId: string): VendorKeyLookup {
  const found = keys.filter((k) => k.keyId === keyId);
  const retired = found.find((k) => k.retired);
  if (retired) return { status: "retired", key: retired };
  return found[0] ? { status: "active", key: found[0] } : { status: "unknown" };
}
