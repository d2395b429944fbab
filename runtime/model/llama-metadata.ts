/** GGUF metadata of a synthetic llama model: architecture hparams, tokenizer and chat template. */
import { FileType, gv, type GgufMetadata, type TensorType } from "./gguf/index.ts";
import { headDim, type LlamaDims } from "./presets.ts";
import type { Vocab } from "./vocab.ts";

/**
 * Plain ChatML. node-llama-cpp checks a model's template against its built-in wrappers and
 * picks ChatMLChatWrapper for this one; llama.cpp's own template detection also matches it.
 */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export function llamaMetadata(opts: { name: string; type: TensorType; dims: LlamaDims; vocab: Vocab }): GgufMetadata {
  const { dims: d, vocab: v } = opts;
  const quantized = opts.type === "q8_0" || opts.type === "q4_0";
  return [
    ["general.architecture", gv.string("llama")],
    ["general.name", gv.string(opts.name)],
    ["general.file_type", gv.u32(FileType[opts.type])],
    // llama.cpp's quantize writes this for quantized files; it marks the q4_0/q8_0 block format version.
    ...(quantized ? [["general.quantization_version", gv.u32(2)] as const] : []),
    ["llama.vocab_size", gv.u32(d.vocabSize)],
    ["llama.context_length", gv.u32(d.contextLength)],
    ["llama.embedding_length", gv.u32(d.nEmbd)],
    ["llama.block_count", gv.u32(d.nLayer)],
    ["llama.feed_forward_length", gv.u32(d.nFf)],
    ["llama.attention.head_count", gv.u32(d.nHead)],
    ["llama.attention.head_count_kv", gv.u32(d.nHeadKv)],
    ["llama.attention.layer_norm_rms_epsilon", gv.f32(d.rmsEps)],
    ["llama.rope.dimension_count", gv.u32(headDim(d))],
    ["llama.rope.freq_base", gv.f32(d.ropeFreqBase)],
    ["tokenizer.ggml.model", gv.string("llama")],
    ["tokenizer.ggml.tokens", gv.array("string", v.tokens)],
    ["tokenizer.ggml.scores", gv.array("f32", v.scores)],
    ["tokenizer.ggml.token_type", gv.array("i32", v.types)],
    ["tokenizer.ggml.bos_token_id", gv.u32(v.bosId)],
    ["tokenizer.ggml.eos_token_id", gv.u32(v.eosId)],
    ["tokenizer.ggml.unknown_token_id", gv.u32(v.unkId)],
    ["tokenizer.ggml.eot_token_id", gv.u32(v.eotId)],
    ["tokenizer.ggml.add_bos_token", gv.bool(true)],
    ["tokenizer.ggml.add_eos_token", gv.bool(false)],
    ["tokenizer.chat_template", gv.string(CHATML_TEMPLATE)],
  ];
}
