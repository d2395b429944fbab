/**
 * The part of the systeminformation library detection uses, as an interface so tests can pass a
 * fake. It describes the running machine, so detection uses it only for the live root ("/").
 */
export interface SystemInfo {
  graphics(): Promise<{ controllers: { vendor: string; model: string; vram: number | null; vramDynamic: boolean; busAddress?: string }[] }>;
  fsSize(): Promise<{ fs: string; type: string; size: number; mount: string }[]>;
}

/** systeminformation, imported on first use: it is large and only `hearth board` needs it. */
export const liveSystemInfo: SystemInfo = {
  graphics: async () => (await import("systeminformation")).graphics(),
  fsSize: async () => (await import("systeminformation")).fsSize(),
};
