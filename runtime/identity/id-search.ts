import type { RootFs } from "../../board/root-fs.ts";
import { placeholderReason } from "./placeholder-id.ts";

/** What one component's reader found. `value` is the raw id: callers digest it and never print it. */
export interface IdReading {
  value: string | null;
  /** The file or library call that gave the value; when none did, the places looked at. */
  source: string;
  /** Why candidates were passed over, or nothing was found. */
  note?: string;
}

/**
 * Tries sources in order of preference and keeps the first real id, remembering what was looked at
 * and why candidates were passed over, so an absent component can explain itself.
 */
export class IdSearch {
  private readonly looked: string[] = [];
  private readonly notes: string[] = [];
  private found: { value: string; source: string } | null = null;

  get done(): boolean {
    return this.found !== null;
  }

  /** Offers a candidate (null: the source was absent); returns true when it is taken. */
  offer(source: string, raw: string | null | undefined): boolean {
    if (this.found) return true;
    this.looked.push(source);
    if (raw === null || raw === undefined) return false;
    const junk = placeholderReason(raw);
    if (junk) {
      this.notes.push(`${source}: ${junk}`);
      return false;
    }
    this.found = { value: raw.trim(), source };
    return true;
  }

  /**
   * Offers a file's text, or what `extract` picks from it (null: nothing there), as `label` (default
   * the path). A file that exists but cannot be read (root-only DMI ids) is noted.
   */
  offerFile(fs: RootFs, path: string, opts: { extract?: (raw: string) => string | null; label?: string } = {}): boolean {
    if (this.found) return true;
    const label = opts.label ?? path;
    const raw = fs.text(path);
    if (raw === null && fs.exists(path)) {
      this.looked.push(label);
      this.notes.push(`${label}: exists but is not readable (root-only on most systems)`);
      return false;
    }
    return this.offer(label, raw === null ? null : opts.extract ? opts.extract(raw) : raw);
  }

  /** Records that `source` was passed over, and why. */
  skip(source: string, why: string): void {
    this.looked.push(source);
    this.notes.push(`${source}: ${why}`);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** The reading; `whenNone` opens the note of an absent component. */
  result(whenNone: string): IdReading {
    const note = this.notes.join("; ");
    if (this.found) return { ...this.found, ...(note ? { note } : {}) };
    return { value: null, source: this.looked.length > 0 ? [...new Set(this.looked)].join(", ") : "nothing to look at", note: note ? `${whenNone}; ${note}` : whenNone };
  }
}
