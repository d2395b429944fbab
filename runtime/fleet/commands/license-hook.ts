/**
 * The production `installLicense` hook of the command processor: the same verification and
 * install as `hearth license install` (installLicenseState), so a refused license changes nothing
 * and its reason becomes the failed ack's reason (code license_invalid).
 */
import { installLicenseState, type LicenseState, type LoadLicenseOptions } from "../../license/state.ts";
import type { LicenseInstalled } from "./processor.ts";

/**
 * `onInstalled` receives the state now in force, for the server to swap in its entitlement gate
 * (without it the new tier applies from the next start).
 */
export function licenseInstallHook(opts: LoadLicenseOptions, onInstalled?: (state: LicenseState) => void): (bytes: Uint8Array) => LicenseInstalled {
  return (bytes) => {
    const state = installLicenseState(opts, bytes);
    onInstalled?.(state);
    return { tier: state.tier, licenseId: state.license?.licenseId ?? null, expiresAt: state.license?.expiresAt ?? null, reason: state.reason };
  };
}
