/**
 * What this box may send, decided in one place from the tier and the owner's opt-in.
 *
 * - Community sends nothing (it does not even connect) unless `telemetry.enabled`; then state,
 *   health and usage totals, with no customer identifiers (no license id; usage never names keys).
 * - SMB sends usage and audit checkpoints always (the license requires them), state and health
 *   when enabled, and names its license id.
 *
 * Prompts, completions and API keys are in no message of any tier: the schemas have no field for them.
 */
export type Tier = "community" | "smb";

export interface TelemetryPolicy {
  /** Connect to the broker at all (and accept fleet commands). */
  connect: boolean;
  /** Retained birth "online", Last Will "offline". */
  state: boolean;
  health: boolean;
  usage: boolean;
  audit: boolean;
  /** Put into state, usage and audit messages; null: none is sent. */
  licenseId: string | null;
}

export function telemetryPolicy(tier: Tier, enabled: boolean, licenseId: string | null): TelemetryPolicy {
  if (tier === "smb") return { connect: true, state: enabled, health: enabled, usage: true, audit: true, licenseId };
  return { connect: enabled, state: enabled, health: enabled, usage: enabled, audit: false, licenseId: null };
}
