import type { Db } from "./db.ts";

export interface CalibrationKey {
  board: string;
  kernel: string;
  modelSha256: string;
}

export interface CalibratedSettings {
  threads: number;
  batchSize: number;
  flashAttention: boolean;
  gpuLayers: number;
}

export interface StoredCalibration<R = unknown> extends CalibrationKey {
  settings: CalibratedSettings;
  /** The full measurement report (grid results, certificate data). */
  report: R;
  createdAt: number;
}

type Row = { board: string; kernel: string; model_sha256: string; settings: string; report: string; created_at: number };

/** Calibration results; a new run for the same key replaces the old one. */
export class CalibrationStore {
  constructor(private readonly db: Db) {}

  save<R>(c: StoredCalibration<R>): void {
    this.db
      .prepare(
        `INSERT INTO calibrations (board, kernel, model_sha256, settings, report, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (board, kernel, model_sha256) DO UPDATE SET settings = excluded.settings, report = excluded.report, created_at = excluded.created_at`,
      )
      .run(c.board, c.kernel, c.modelSha256, JSON.stringify(c.settings), JSON.stringify(c.report), c.createdAt);
  }

  find<R = unknown>(key: CalibrationKey): StoredCalibration<R> | null {
    const row = this.db
      .prepare("SELECT * FROM calibrations WHERE board = ? AND kernel = ? AND model_sha256 = ?")
      .get(key.board, key.kernel, key.modelSha256) as Row | undefined;
    if (!row) return null;
    return {
      board: row.board,
      kernel: row.kernel,
      modelSha256: row.model_sha256,
      settings: JSON.parse(row.settings) as CalibratedSettings,
      report: JSON.parse(row.report) as R,
      createdAt: row.created_at,
    };
  }
}
