/**
 * Describes a GGUF model file from its header, via node-llama-cpp's own GGUF reader (no weights
 * are loaded). Anything that is not a complete, readable GGUF becomes HearthError("gguf_invalid").
 */
import { stat } from "node:fs/promises";
import { GgufFileType, readGgufFileInfo, type GgufFileInfo } from "node-llama-cpp";
import { hasErrno, HearthError } from "../errors.ts";
import { GGML_TYPE_SIZES } from "./gguf/type-sizes.ts";
import { checkGgufHeader } from "./header-check.ts";

export interface ModelInfo {
  path: string;
  architecture: string;
  name: string | null;
  /** llama.cpp's name for general.file_type, e.g. "F16", "Q4_0", "Q4_K_M"; null when absent. */
  fileType: string | null;
  sizeBytes: number;
  parameters: number;
  contextLength: number | null;
  embeddingLength: number | null;
  layers: number | null;
  heads: number | null;
  kvHeads: number | null;
  vocabSize: number | null;
  hasChatTemplate: boolean;
  ggufVersion: number;
}

const num = (v: unknown): number | null => {
  if (typeof v === "number" || typeof v === "bigint") return Number(v);
  if (Array.isArray(v) && v.length > 0) return Math.max(...v.map(Number)); // per-layer arrays
  return null;
};

function fileTypeName(v: unknown): string | null {
  if (typeof v !== "number") return null;
  const key = (GgufFileType as unknown as Record<number, string | undefined>)[v];
  return key ? key.replace(/^(MOSTLY|ALL)_/, "") : `unknown(${v})`;
}

/**
 * Total element count, and a check that every tensor of this file (split models: of this part;
 * other parts are separate files) ends within it when its type's geometry is known.
 */
function countAndCheckTensors(info: GgufFileInfo, sizeBytes: number): number {
  let parameters = 0;
  for (const t of info.fullTensorInfo ?? []) {
    const elements = t.dimensions.reduce<number>((a, d) => a * Number(d), 1);
    parameters += elements;
    const geometry = GGML_TYPE_SIZES.get(t.ggmlType);
    if (!geometry || t.filePart !== 1) continue;
    const end = Number(t.fileOffset) + (elements / geometry.elements) * geometry.bytes;
    if (end > sizeBytes) throw new Error(`truncated: tensor ${t.name} ends at byte ${end} but the file has ${sizeBytes}`);
  }
  return parameters;
}

/**
 * A complete, readable GGUF's header (metadata and tensor infos) and size, or
 * HearthError("model_not_found" | "gguf_invalid"). Shared by model info and LoRA adapter checks.
 */
export async function readGguf(path: string): Promise<{ info: GgufFileInfo; sizeBytes: number; parameters: number }> {
  const invalid = (reason: string, cause?: unknown): HearthError =>
    new HearthError("gguf_invalid", `${path}: ${reason}`, cause === undefined ? {} : { cause });
  let sizeBytes: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw invalid("not a regular file");
    sizeBytes = st.size;
  } catch (err) {
    if (hasErrno(err, "ENOENT")) throw new HearthError("model_not_found", `${path}: no such file`, { cause: err });
    throw err instanceof HearthError ? err : invalid(err instanceof Error ? err.message : String(err), err);
  }

  await checkGgufHeader(path);
  try {
    const info = await readGgufFileInfo(path, { sourceType: "filesystem", logWarnings: false });
    return { info, sizeBytes, parameters: countAndCheckTensors(info, sizeBytes) };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw invalid(/magic/i.test(reason) ? "not a GGUF file (bad magic)" : `not a valid GGUF file: ${reason}`, err);
  }
}

export async function describeModel(path: string): Promise<ModelInfo> {
  const { info, sizeBytes, parameters } = await readGguf(path);
  const general = info.metadata.general as Record<string, unknown> | undefined;
  const architecture = general?.architecture;
  if (typeof architecture !== "string") {
    throw new HearthError("gguf_invalid", `${path}: not a valid GGUF model: general.architecture is missing`);
  }
  const arch = (info.metadata as Record<string, unknown>)[architecture] as Record<string, unknown> | undefined;
  const attention = arch?.attention as Record<string, unknown> | undefined;
  const tokenizer = info.metadata.tokenizer as { ggml?: { tokens?: readonly unknown[] }; chat_template?: unknown } | undefined;
  const heads = num(attention?.head_count);

  return {
    path,
    architecture,
    name: typeof general?.name === "string" ? general.name : null,
    fileType: fileTypeName(general?.file_type),
    sizeBytes,
    parameters,
    contextLength: num(arch?.context_length),
    embeddingLength: num(arch?.embedding_length),
    layers: num(arch?.block_count),
    heads,
    kvHeads: num(attention?.head_count_kv) ?? heads, // llama.cpp defaults n_head_kv to n_head
    vocabSize: num(arch?.vocab_size) ?? tokenizer?.ggml?.tokens?.length ?? null,
    hasChatTemplate: typeof tokenizer?.chat_template === "string" && tokenizer.chat_template.trim() !== "",
    ggufVersion: info.version,
  };
}
