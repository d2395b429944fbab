/**
 * Values firmware and kernels put where a real hardware id is missing. Digesting one would bind a
 * license to every box that shares it (a mini PC vendor's whole production run), so they count as
 * absent.
 */
const KNOWN_PLACEHOLDERS = new Set([
  "03000200-0400-0500-0006-000700080009", // AMI BIOS default UUID, common on cheap x86 boards
  "12345678-1234-5678-90ab-cddeefaabbcc",
  "not settable",
  "not specified",
  "not available",
  "not applicable",
  "not present",
  "default string",
  "to be filled by o.e.m.",
  "system serial number",
  "chassis serial number",
  "base board serial number",
  "none",
  "n/a",
  "na",
  "unknown",
  "invalid",
  "0123456789",
  "123456789",
  "1234567890",
]);

/** Why `value` is not a usable id ("all zeros", ...), or null when it is one. */
export function placeholderReason(value: string): string | null {
  const text = value.trim();
  if (text === "") return "empty";
  if (!/^[\x20-\x7e]+$/.test(text)) return "not printable text";
  const lower = text.toLowerCase();
  if (KNOWN_PLACEHOLDERS.has(lower)) return `a well-known firmware placeholder (${JSON.stringify(text)})`;
  const alnum = lower.replace(/^0x/, "").replace(/[^0-9a-z]/g, "");
  if (alnum === "") return "no letters or digits";
  if (/^0+$/.test(alnum)) return "all zeros";
  if (/^f+$/.test(alnum)) return "all F's";
  if (/^(.)\1+$/.test(alnum)) return "one repeated character";
  return null;
}
