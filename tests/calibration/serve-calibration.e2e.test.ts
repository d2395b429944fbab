import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { hearth, spawnServe } from "../helpers/cli.ts";
import { testModel } from "../helpers/models.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "hearth-servecal-"));
const readyz = async (url: string) => (await fetch(`${url}/readyz`)).json() as Promise<{ settings: Record<string, unknown>; kernel: { id: string } }>;

describe("serve and calibration", () => {
  test("hearth calibrate persists; serve then reports and uses the stored settings", async () => {
    const dataDir = tmp();
    const model = await testModel();
    const cal = await hearth(["calibrate", "--model", model, "--data-dir", dataDir, "--json"]);
    expect(cal.code).toBe(0);
    expect(cal.stderr).toContain("calibrating"); // progress display
    const cert = JSON.parse(cal.stdout);
    expect(cert.format).toBe("hearth-performance-certificate/1");
    expect(await Bun.file(cert.files.markdown).text()).toContain(cert.model.sha256);

    const { proc, url } = await spawnServe(["--model", model, "--data-dir", dataDir]);
    const status = await readyz(url);
    proc.kill("SIGTERM");
    await proc.exited;
    expect(status.settings).toEqual({ source: "calibrated", ...cert.settings });
    expect(status.kernel.id).toBe(cert.kernel.id);
  }, 120_000);

  test("on first start without a stored calibration, serve calibrates before it is ready", async () => {
    const dataDir = tmp();
    const { proc, url } = await spawnServe(["--model", await testModel(), "--data-dir", dataDir], { HEARTH_CALIBRATION_AUTO: "true" });
    const status = await readyz(url);
    proc.kill("SIGTERM");
    await proc.exited;
    expect(status.settings.source).toBe("calibrated");
    const again = await spawnServe(["--model", await testModel(), "--data-dir", dataDir, "--no-calibrate"]);
    expect((await readyz(again.url)).settings.source).toBe("calibrated"); // stored, not re-measured
    again.proc.kill("SIGTERM");
    await again.proc.exited;
  }, 120_000);

  test("a model over the memory budget is refused with both numbers, not loaded", async () => {
    const res = await hearth(["serve", "--model", await testModel({ params: "20m" }), "--data-dir", tmp(), "--port", "0", "--memory-budget-mb", "8", "--no-calibrate"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("model_over_budget");
    expect(res.stderr).toMatch(/\d+(\.\d+)? MB/);
  }, 60_000);
});
