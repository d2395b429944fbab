/**
 * Seeded, portable PRNG for weight synthesis: xoshiro128** seeded through splitmix32, with
 * Box-Muller normals. Pure 32-bit integer math (Math.imul, >>> 0), so streams are identical on
 * every engine and platform; state lives in locals inside the hot loop to avoid allocations.
 */

/** splitmix32 step: spreads small/similar seeds into well-mixed xoshiro state words. */
function splitmix32(state: { s: number }): number {
  let z = (state.s = (state.s + 0x9e3779b9) | 0);
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a of a string, used to derive an independent stream per tensor name. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is the user seed; `stream` separates independent sequences (e.g. one per tensor). */
  constructor(seed: number, stream = 0) {
    const st = { s: (seed ^ Math.imul(stream, 0x27d4eb2f)) | 0 };
    // Mix the high part of large seeds in too, so seeds differing above 2^32 differ.
    st.s = (st.s + Math.imul(Math.floor(seed / 2 ** 32) | 0, 0x165667b1)) | 0;
    this.a = splitmix32(st);
    this.b = splitmix32(st);
    this.c = splitmix32(st);
    this.d = splitmix32(st);
  }

  /** Next uniform u32 (xoshiro128**). */
  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Fills `out` with N(mean, std^2) samples via Box-Muller (two samples per pair of uniforms). */
  fillNormal(out: Float32Array, std: number, mean = 0): void {
    let { a, b, c, d } = this;
    const n = out.length;
    for (let i = 0; i < n; i += 2) {
      // Two xoshiro128** steps inlined; uniforms in (0, 1] keep log() finite.
      const r1 = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
      let t = b << 9;
      c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl(d, 11);
      const r2 = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
      t = b << 9;
      c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl(d, 11);
      const u1 = (r1 + 1) * 2.3283064365386963e-10;
      const radius = std * Math.sqrt(-2 * Math.log(u1));
      const theta = r2 * 1.4629180792671596e-9; // 2*pi / 2^32
      out[i] = mean + radius * Math.cos(theta);
      if (i + 1 < n) out[i + 1] = mean + radius * Math.sin(theta);
    }
    this.a = a; this.b = b; this.c = c; this.d = d;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
