/**
 * The model lines the agent updates, each an A/B slot store (slots.ts) under the data dir:
 *
 *   <dataDir>/ota/base/             the base model
 *   <dataDir>/ota/lora/<name>/      one LoRA adapter release each
 *
 * What serves at start follows from them: the base line's active slot (or the factory model,
 * config model.path, when there is none or a rollback went past it) and the adapters whose
 * active slot is committed and whose base requirement the served base meets.
 */
import { existsSync, readdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Clock } from "../../runtime/clock.ts";
import type { LoraSetting } from "../../runtime/engine/adapters.ts";
import type { Logger } from "../../runtime/log.ts";
import type { InstalledRelease } from "../verify/checks.ts";
import { satisfies } from "../verify/semver.ts";
import { isOtaAgentError } from "./errors.ts";
import { POINTER_FILE } from "./slots-pointer.ts";
import { SlotStore, type SlotView } from "./slots.ts";
import type { OtaRecord } from "./state.ts";

export const otaDir = (dataDir: string): string => join(dataDir, "ota");

export class OtaLines {
  readonly base: SlotStore;
  private readonly loras = new Map<string, SlotStore>();

  constructor(
    private readonly dataDir: string,
    private readonly clock: Clock,
    private readonly logger?: Logger,
  ) {
    this.base = this.open(join(otaDir(dataDir), "base"));
  }

  lora(name: string): SlotStore {
    let store = this.loras.get(name);
    if (!store) {
      store = this.open(join(otaDir(this.dataDir), "lora", name));
      this.loras.set(name, store);
    }
    return store;
  }

  /**
   * A pointer that does not parse (disk damage; it is never written torn) must not keep the box
   * from starting: it is set aside and the line starts empty, so the factory model serves.
   */
  private open(root: string): SlotStore {
    try {
      return SlotStore.open(root, { clock: this.clock });
    } catch (err) {
      if (!isOtaAgentError(err, "pointer_corrupt")) throw err;
      const aside = join(root, `${POINTER_FILE}.corrupt-${this.clock.now()}`);
      renameSync(join(root, POINTER_FILE), aside);
      this.logger?.error("ota: the slot pointer is corrupt; set aside, this line serves its factory model", { pointer: aside, error: err.message });
      return SlotStore.open(root, { clock: this.clock });
    }
  }

  /** The adapter lines on disk. */
  loraNames(): string[] {
    const dir = join(otaDir(this.dataDir), "lora");
    return existsSync(dir) ? readdirSync(dir).filter((n) => statSync(join(dir, n)).isDirectory()) : [];
  }

  line(kind: "base-model" | "lora", name: string): SlotStore {
    return kind === "base-model" ? this.base : this.lora(name);
  }

  /** Every line, the base first. */
  all(): { kind: "base-model" | "lora"; name: string; slots: SlotStore }[] {
    return [{ kind: "base-model" as const, name: "base", slots: this.base }, ...this.loraNames().map((name) => ({ kind: "lora" as const, name, slots: this.lora(name) }))];
  }
}

/** A slot whose file is there whole (a damaged disk must not turn into a crash loop). */
const intact = (view: SlotView | null): view is SlotView => view !== null && existsSync(view.path) && statSync(view.path).size === view.release.size;

/** The OTA base release serving, or null for the factory model. */
export function servedBase(lines: OtaLines, record: OtaRecord): (InstalledRelease & { path: string }) | null {
  const active = lines.base.current().active;
  if (record.factory || !intact(active)) return null;
  return { name: active.release.name, version: active.release.version, sha256: active.release.sha256, path: active.path };
}

/** The OTA adapters to apply on `base`: committed, intact, and made for it. */
export function servedAdapters(lines: OtaLines, record: OtaRecord, base: InstalledRelease | null): (LoraSetting & { name: string; version: string })[] {
  const out: (LoraSetting & { name: string; version: string })[] = [];
  for (const name of lines.loraNames()) {
    const active = lines.lora(name).current().active;
    const req = record.adapterBases[name];
    if (!intact(active) || active.state !== "committed" || !req || !base) continue;
    if (base.name !== req.name || !satisfies(base.version, req.versions) || (req.sha256 && req.sha256 !== base.sha256)) continue;
    out.push({ path: active.path, scale: 1, name, version: active.release.version });
  }
  return out;
}
