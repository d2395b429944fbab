/**
 * Entitlements gate features at one place: code that offers a paid feature calls the gate it was
 * given, and a denial is an explicit error naming the missing entitlement.
 */
import { HearthError } from "../errors.ts";

/** Known today; licenses may carry more (newer runtimes understand them, older ones ignore them). */
export const ENTITLEMENTS = ["gpu_burst", "lora_adapters", "base_model_updates", "multi_model"] as const;
export type Entitlement = (typeof ENTITLEMENTS)[number];

export interface EntitlementGate {
  /** "community" or "smb": the tier in force now (an expired, refused or absent license is community). */
  readonly tier: "community" | "smb";
  has(entitlement: Entitlement): boolean;
  /** Throws HearthError("entitlement_required") naming the entitlement and the feature. */
  require(entitlement: Entitlement, feature: string): void;
}

/**
 * A gate over the entitlements in force. `why` completes the denial message, e.g. "no license is
 * installed (Community tier)" or "the license expired on 2026-01-01 and its grace period ended".
 */
export function entitlementGate(tier: "community" | "smb", entitlements: Iterable<string>, why: string): EntitlementGate {
  const granted = new Set(entitlements);
  return {
    tier,
    has: (e) => granted.has(e),
    require(e, feature) {
      if (granted.has(e)) return;
      throw new HearthError("entitlement_required", `${feature} needs the "${e}" entitlement: ${why}`, { field: e });
    },
  };
}

/** The gate of a box without a license. */
export const communityGate = (): EntitlementGate => entitlementGate("community", [], "no license is installed (Community tier)");
