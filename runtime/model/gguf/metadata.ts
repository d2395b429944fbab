/**
 * Typed GGUF metadata values. GGUF stores an explicit type per key (llama.cpp rejects e.g. a
 * u64 where it expects u32), so values carry their type instead of being inferred from JS types.
 */
import type { ByteBuilder } from "./bytes.ts";
import { GgufValueType, type GgufScalarTypeName } from "./types.ts";

type NumberTypeName = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64";
export type GgufScalar =
  | { type: NumberTypeName; value: number }
  | { type: "u64" | "i64"; value: bigint | number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string };
export type GgufArrayValue = {
  type: "array";
  itemType: GgufScalarTypeName;
  values: readonly (number | bigint | boolean | string)[] | ArrayLike<number>;
};
export type GgufValue = GgufScalar | GgufArrayValue;
export type GgufMetadata = ReadonlyArray<readonly [key: string, value: GgufValue]>;

/** Short constructors: `gv.u32(2048)`, `gv.array("string", tokens)`. */
export const gv = {
  u8: (value: number): GgufValue => ({ type: "u8", value }),
  i32: (value: number): GgufValue => ({ type: "i32", value }),
  u32: (value: number): GgufValue => ({ type: "u32", value }),
  u64: (value: bigint | number): GgufValue => ({ type: "u64", value }),
  f32: (value: number): GgufValue => ({ type: "f32", value }),
  f64: (value: number): GgufValue => ({ type: "f64", value }),
  bool: (value: boolean): GgufValue => ({ type: "bool", value }),
  string: (value: string): GgufValue => ({ type: "string", value }),
  array: (itemType: GgufScalarTypeName, values: GgufArrayValue["values"]): GgufValue => ({ type: "array", itemType, values }),
};

const INT_RANGE: Partial<Record<GgufScalarTypeName, [number, number]>> = {
  u8: [0, 0xff], i8: [-0x80, 0x7f], u16: [0, 0xffff], i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff], i32: [-0x80000000, 0x7fffffff],
};

function writeScalar(out: ByteBuilder, type: GgufScalarTypeName, v: unknown, key: string): void {
  const range = INT_RANGE[type];
  if (range && (typeof v !== "number" || !Number.isInteger(v) || v < range[0] || v > range[1])) {
    throw new Error(`metadata ${key}: ${String(v)} is not a valid ${type}`);
  }
  switch (type) {
    case "string":
      if (typeof v !== "string") throw new Error(`metadata ${key}: expected a string`);
      return out.string(v);
    case "bool":
      if (typeof v !== "boolean") throw new Error(`metadata ${key}: expected a boolean`);
      return out.u8(v ? 1 : 0);
    case "u64": case "i64":
      if (typeof v !== "bigint" && !(typeof v === "number" && Number.isSafeInteger(v))) {
        throw new Error(`metadata ${key}: ${String(v)} is not a valid ${type}`);
      }
      return type === "u64" ? out.u64(v) : out.i64(v);
    case "f32": case "f64":
      if (typeof v !== "number") throw new Error(`metadata ${key}: expected a number`);
      return type === "f32" ? out.f32(v) : out.f64(v);
    default:
      return out[type](v as number);
  }
}

/** One KV pair: key string, u32 value type, then the value (arrays: u32 item type, u64 count, items). */
export function writeKv(out: ByteBuilder, key: string, value: GgufValue): void {
  out.string(key);
  if (value.type === "array") {
    out.u32(GgufValueType.array);
    out.u32(GgufValueType[value.itemType]);
    out.u64(value.values.length);
    for (let i = 0; i < value.values.length; i++) writeScalar(out, value.itemType, value.values[i], key);
    return;
  }
  out.u32(GgufValueType[value.type]);
  writeScalar(out, value.type, value.value, key);
}
