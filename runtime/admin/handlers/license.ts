/**
 * License status and upload. An upload is verified before it is written (a refused one changes
 * nothing) and, like `hearth license install` and the fleet's license.install, applies at the next
 * start: the entitlements decide how models load. GET re-reads the installed file, so it shows
 * the new license at once, with restartRequired until a restart puts it in force.
 */
import { formatFingerprint } from "../../identity/fingerprint-format.ts";
import type { LicenseState } from "../../license/state.ts";
import type { AdminDeps } from "../deps.ts";
import type { AdminHandlers } from "../router.ts";
import type { LicenseStatus } from "../schemas/license.ts";

export function licenseHandlers(deps: AdminDeps): Pick<AdminHandlers, "getLicense" | "installLicense"> {
  const options = async () => {
    const { fingerprint } = await deps.licensed;
    return { dataDir: deps.dataDir, db: deps.db, config: deps.config.license, device: fingerprint, clock: deps.clock };
  };
  const report = async (installed: LicenseState): Promise<LicenseStatus> => {
    const { licenseStateJson } = await import("../../license/state.ts");
    const { fingerprint } = await deps.licensed;
    const inForce = deps.box().license;
    const json = licenseStateJson(installed);
    const sameLicense = inForce !== null && inForce.tier === installed.tier && inForce.reason === installed.reason && inForce.license?.licenseId === installed.license?.licenseId;
    return {
      deviceId: deps.deviceId,
      fingerprint: formatFingerprint(fingerprint),
      ...json,
      license: json.license,
      clock: { ...json.clock, lastRollback: json.clock.lastRollback as Record<string, unknown> | null },
      inForceTier: inForce?.tier ?? null,
      restartRequired: inForce !== null && !sameLicense,
    };
  };
  return {
    getLicense: async () => {
      const { loadLicenseState } = await import("../../license/state.ts");
      return report(loadLicenseState(await options()));
    },
    installLicense: async ({ body }) => {
      const { installLicenseState } = await import("../../license/state.ts");
      const state = installLicenseState(await options(), new TextEncoder().encode(JSON.stringify(body)));
      deps.logger.info("license installed from the admin API; applies at the next restart", { license_id: state.license?.licenseId ?? null, tier: state.tier });
      return report(state);
    },
  };
}
