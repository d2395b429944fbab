/** GGUF v3 writing: typed metadata, streamed tensor data, ggml-exact f16/q8_0/q4_0 encoders. */
export { writeGguf, type GgufWriteResult, type TensorSource } from "./writer.ts";
export { gv, type GgufMetadata, type GgufValue, type GgufArrayValue, type GgufScalar } from "./metadata.ts";
export { encode, encodeInto } from "./encode.ts";
export { f32ToF16Bits } from "./f16.ts";
export { encodeQ4_0, encodeQ8_0 } from "./quant.ts";
export { BLOCK, FileType, GgmlType, GgufValueType, tensorByteSize, type TensorType } from "./types.ts";
