import { describe, expect, test } from "bun:test";
import { normaliseArmFeatures, normaliseX86Flags } from "../../board/cpu-features.ts";
import { parseCpuList, parseCpuinfo } from "../../board/readers/cpu.ts";

describe("CPU feature normalisation", () => {
  test("x86 flag spellings map to the common names, in one canonical order", () => {
    expect(normaliseX86Flags(["avx512_vnni", "avx2", "sse4_2", "avx_vnni", "avx512_bf16", "avx512f", "fma", "ht", "avx"])).toEqual([
      "sse4_2", "avx", "avx2", "fma", "avxvnni", "avx512f", "avx512vnni", "avx512bf16",
    ]);
  });

  test("arm64: asimd → neon, asimddp → dotprod; fp16 needs both fphp and asimdhp", () => {
    expect(normaliseArmFeatures(["fp", "asimd", "asimddp", "i8mm", "sve", "sve2", "fphp", "asimdhp"], "arm64")).toEqual([
      "neon", "dotprod", "fp16", "i8mm", "sve", "sve2",
    ]);
    expect(normaliseArmFeatures(["fp", "asimd", "fphp"], "arm64")).toEqual(["neon"]);
  });

  test("32-bit Arm (a Pi on a 32-bit OS) reports neon from its own feature list", () => {
    expect(normaliseArmFeatures("half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae evtstrm crc32".split(" "), "arm")).toEqual(["neon"]);
  });
});

describe("cpuinfo parsing", () => {
  test("processor blocks are kept apart from the Pi's trailing board block; keys are case-insensitive", () => {
    const { processors, board } = parseCpuinfo("processor\t: 0\nModel name\t: X\n\nprocessor\t: 1\n\nRevision\t: d04170\nModel\t\t: Raspberry Pi 5\n");
    expect(processors).toEqual([{ processor: "0", "model name": "X" }, { processor: "1" }]);
    expect(board).toEqual({ revision: "d04170", model: "Raspberry Pi 5" });
  });

  test("kernel CPU lists expand ranges and singles", () => {
    expect(parseCpuList("0-3,8,10-11\n")).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList("")).toEqual([]);
    expect(parseCpuList(null)).toEqual([]);
  });
});
