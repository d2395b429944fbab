/**
 * The installed license: <dataDir>/license/license.json. A license is verified before it is
 * written, so a refused one never replaces a good one, and re-verified at every start. A file that
 * is corrupted or refused later is left in place (the box runs Community and says why); nothing
 * here deletes it.
 */
import { join } from "node:path";
import { hasErrno, HearthError } from "../errors.ts";
import { writeFileDurably } from "./durable-write.ts";
import { readLicenseFile } from "./license-file.ts";
import { oversizedVerdict, verifyLicense, type LicenseVerdict, type VerifyContext } from "./verify.ts";

export const LICENSE_FILE = join("license", "license.json");

export const licenseFilePath = (dataDir: string): string => join(dataDir, LICENSE_FILE);

const refused = (reason: LicenseVerdict["reason"], message: string): LicenseVerdict => ({ reason, inForce: false, message, payload: null, warnings: [] });

/** The installed file's bytes, or the verdict when there is no readable file of a sane size. */
function readInstalled(path: string): { bytes: Uint8Array } | { verdict: LicenseVerdict } {
  try {
    const read = readLicenseFile(path);
    return "bytes" in read ? read : { verdict: oversizedVerdict(read.oversized) };
  } catch (err) {
    if (hasErrno(err, "ENOENT")) return { verdict: refused("absent", "no license is installed (Community tier)") };
    return { verdict: refused("unreadable", `${path} cannot be read (${(err as Error).message})`) };
  }
}

/** Verifies the installed license; "absent" when there is none. Never throws for a bad file. */
export function checkInstalledLicense(dataDir: string, ctx: VerifyContext): LicenseVerdict {
  const read = readInstalled(licenseFilePath(dataDir));
  return "verdict" in read ? read.verdict : verifyLicense(read.bytes, ctx);
}

/**
 * Verifies `bytes` for this device and, only if the license is in force, writes it in place of
 * the installed one. A refusal throws license_invalid naming the reason and writes nothing.
 */
export function installLicense(dataDir: string, bytes: Uint8Array, ctx: VerifyContext): LicenseVerdict {
  const verdict = verifyLicense(bytes, ctx);
  if (!verdict.inForce) {
    throw new HearthError("license_invalid", `license refused (${verdict.reason}): ${verdict.message}; the installed license is unchanged`, {
      field: verdict.field ?? "license",
    });
  }
  writeFileDurably(licenseFilePath(dataDir), bytes);
  return verdict;
}

/**
 * The license id written in the installed file, or null when there is none or it cannot be read.
 * Not a verdict on the license (no keys here): audit reports name the license the box carries and
 * the vendor verifies it.
 */
export function installedLicenseId(dataDir: string): string | null {
  const read = readInstalled(licenseFilePath(dataDir));
  if ("verdict" in read) return null;
  try {
    const id = (JSON.parse(new TextDecoder().decode(read.bytes)) as { payload?: { licenseId?: unknown } } | null)?.payload?.licenseId;
    return typeof id === "string" && id !== "" ? id : null;
  } catch {
    return null;
  }
}
