/**
 * Whether a license applies to this device: a fingerprint-bound license needs one of its
 * fingerprints to match the device's (2-of-n components, identity/fingerprint-format.ts); a seat
 * license is not device-bound (the fleet audit counts the devices that use it).
 */
import { matchFingerprint, parseFingerprint, type Fingerprint, type FingerprintMatch } from "../identity/fingerprint-format.ts";
import type { LicenseBinding } from "./schema.ts";

export type BindingCheck = { ok: boolean; message: string };

/** The licensed fingerprints; throws invalid_request naming `payload.binding.fingerprints[i]`. */
export function licensedFingerprints(binding: LicenseBinding): Fingerprint[] {
  if (!("fingerprints" in binding)) return [];
  return binding.fingerprints.map((text, i) => parseFingerprint(text, `payload.binding.fingerprints[${i}]`));
}

/** `device` null skips the check (the vendor verifying a file has no device to compare with). */
export function checkBinding(binding: LicenseBinding, device: Fingerprint | null): BindingCheck {
  if ("seats" in binding) return { ok: true, message: `seat license for ${binding.seats} device${binding.seats === 1 ? "" : "s"}` };
  if (device === null) return { ok: true, message: "bound to a device fingerprint (not checked here)" };
  if (device.components.length === 0) return { ok: false, message: "the license is bound to a device fingerprint, and no hardware id of this device could be read" };
  let best: (FingerprintMatch & { of: number }) | null = null;
  for (const licensed of licensedFingerprints(binding)) {
    const m = matchFingerprint(licensed, device);
    const of = licensed.components.length;
    if (m.matches) return { ok: true, message: `bound to this device (${m.matched} of ${of} fingerprint components match)` };
    if (!best || m.matched > best.matched) best = { ...m, of };
  }
  const b = best!;
  return {
    ok: false,
    message: `the license is bound to other hardware: ${b.matched} of its ${b.of} fingerprint components match this device, ${b.required} required`,
  };
}
