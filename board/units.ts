/** Display helpers shared by evidence lines and the human report. */
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export function bytesText(bytes: number): string {
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${Math.round(bytes / MiB)} MiB`;
}

export function celsiusText(milliCelsius: number): string {
  return `${(milliCelsius / 1000).toFixed(1)} °C`;
}
