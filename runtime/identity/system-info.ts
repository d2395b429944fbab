/**
 * The part of systeminformation the fingerprint uses, as an interface so tests can pass a fake. It
 * describes the running machine, so it only speaks for the live root ("/"), like board/system-info.ts.
 */
export interface IdentitySystemInfo {
  /** uuid and serial from dmidecode or DMI sysfs (empty or "-" when unknown). */
  system(): Promise<{ uuid: string; serial: string }>;
  networkInterfaces(): Promise<{ iface: string; mac: string }[]>;
}

/** systeminformation, imported on first use: it is large and only the fingerprint needs these calls. */
export const liveIdentitySystemInfo: IdentitySystemInfo = {
  system: async () => (await import("systeminformation")).system(),
  networkInterfaces: async () => (await import("systeminformation")).networkInterfaces(),
};
