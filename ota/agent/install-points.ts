/** Named moments of an install (install.ts), for crash tests (pause-hook.ts). */
export const INSTALL_POINTS = ["download-start", "downloaded", "verifying", "verified", "staged", "switching", "switched", "loaded", "health-check", "healthy", "pointer-committed", "committed", "rolled-back"] as const;
export type InstallPoint = (typeof INSTALL_POINTS)[number];
