import { describe, expect, test } from "bun:test";
import { detectBoard } from "../../board/index.ts";
import { communityGate, entitlementGate } from "../../runtime/license/entitlements.ts";
import { gpuAllowance } from "../../runtime/license/gpu-burst.ts";
import { fixtureRoot } from "../board/fixture.ts";

const smb = (...entitlements: string[]) => entitlementGate("smb", entitlements, "the license does not list it");

describe("GPU burst: the license decides discrete-GPU offload only", () => {
  test("x86 with an NVIDIA card: Community serves on CPU and names gpu_burst; an SMB license with it offloads", async () => {
    const board = await detectBoard({ root: fixtureRoot("x86-nvidia") });
    expect(board.profile.gpuPolicy).toBe("fit-vram");
    const denied = gpuAllowance(board, true, communityGate());
    expect(denied.allowGpu).toBe(false);
    expect(denied.denied).toContain('"gpu_burst"');
    expect(gpuAllowance(board, true, smb("lora_adapters")).allowGpu).toBe(false);
    expect(gpuAllowance(board, true, smb("gpu_burst"))).toEqual({ allowGpu: true, denied: null });
  });

  test("a Jetson's integrated GPU is the product: offloaded on Community too", async () => {
    const board = await detectBoard({ root: fixtureRoot("jetson-orin-nano") });
    expect(board.profile.gpuPolicy).toBe("offload-all");
    expect(gpuAllowance(board, true, communityGate())).toEqual({ allowGpu: true, denied: null });
  });

  test("nothing is asked when the GPU is not wanted or there is none", async () => {
    const x86 = await detectBoard({ root: fixtureRoot("x86-nvidia") });
    expect(gpuAllowance(x86, false, communityGate())).toEqual({ allowGpu: false, denied: null });
    const pi = await detectBoard({ root: fixtureRoot("rpi5") });
    expect(gpuAllowance(pi, true, communityGate())).toEqual({ allowGpu: true, denied: null });
  });
});
