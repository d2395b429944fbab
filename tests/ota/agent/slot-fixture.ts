/** Deterministic release contents for slot tests: release n's bytes (16–80 KiB) derive from n alone. */

export function releaseBytes(n: number): Uint8Array {
  const size = 16 * 1024 + ((n * 7919) % (64 * 1024));
  const out = new Uint8Array(size);
  let x = n * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
