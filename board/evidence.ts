import type { Evidence } from "./schema.ts";

/** Collects what each source said, in the order it was read, so a report can explain itself. */
export class EvidenceLog {
  readonly entries: Evidence[] = [];
  /** Missing or odd signals that do not change the board kind but are worth telling. */
  readonly notes: string[] = [];

  add(source: string, says: string): void {
    this.entries.push({ source, says });
  }

  note(text: string): void {
    this.notes.push(text);
  }
}

/** Quotes a value for an evidence line, shortened so one line stays readable. */
export function quote(text: string, max = 120): string {
  const clean = text.replace(/\0/g, " ").replace(/\s+/g, " ").trim();
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max - 1)}…` : clean);
}
