/**
 * Block geometry of the ggml tensor types found in published GGUF files (ggml.c type_traits),
 * keyed by ggml type id. Used to check that a file actually holds all of its tensor data;
 * types missing here are simply not size-checked.
 */
export const GGML_TYPE_SIZES: ReadonlyMap<number, { elements: number; bytes: number }> = new Map([
  [0, { elements: 1, bytes: 4 }], // F32
  [1, { elements: 1, bytes: 2 }], // F16
  [2, { elements: 32, bytes: 18 }], // Q4_0
  [3, { elements: 32, bytes: 20 }], // Q4_1
  [6, { elements: 32, bytes: 22 }], // Q5_0
  [7, { elements: 32, bytes: 24 }], // Q5_1
  [8, { elements: 32, bytes: 34 }], // Q8_0
  [10, { elements: 256, bytes: 84 }], // Q2_K
  [11, { elements: 256, bytes: 110 }], // Q3_K
  [12, { elements: 256, bytes: 144 }], // Q4_K
  [13, { elements: 256, bytes: 176 }], // Q5_K
  [14, { elements: 256, bytes: 210 }], // Q6_K
  [20, { elements: 32, bytes: 18 }], // IQ4_NL
  [23, { elements: 256, bytes: 136 }], // IQ4_XS
  [24, { elements: 1, bytes: 1 }], // I8
  [25, { elements: 1, bytes: 2 }], // I16
  [26, { elements: 1, bytes: 4 }], // I32
  [27, { elements: 1, bytes: 8 }], // I64
  [28, { elements: 1, bytes: 8 }], // F64
  [30, { elements: 1, bytes: 2 }], // BF16
]);
