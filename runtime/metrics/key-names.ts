import type { Clock } from "../clock.ts";

/** The label of requests made without a key (auth.openInference); no key name is empty. */
export const NO_KEY = "";
/** The label of a key id that no longer exists (cleared by a factory reset while a request ran). */
export const UNKNOWN_KEY = "(deleted)";

/**
 * API key id → name for metric labels (the name, never the id or the key). Names are cached for
 * `ttlMs`, so a busy box does not read SQLite per request and a renamed key shows its new name
 * within that time. The cache is small: a box has a handful of keys; it is dropped if it grows.
 */
export class KeyNames {
  private readonly cache = new Map<string, { name: string; at: number }>();

  constructor(
    private readonly lookup: (keyId: string) => string | null,
    private readonly clock: Clock,
    private readonly ttlMs = 60_000,
    private readonly maxEntries = 1024,
  ) {}

  nameOf(keyId: string | null): string {
    if (keyId === null) return NO_KEY;
    const now = this.clock.monotonic();
    const hit = this.cache.get(keyId);
    if (hit && now - hit.at < this.ttlMs) return hit.name;
    const name = this.lookup(keyId) ?? UNKNOWN_KEY;
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(keyId, { name, at: now });
    return name;
  }
}
