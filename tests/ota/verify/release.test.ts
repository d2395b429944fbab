import { afterAll, describe, expect, test } from "bun:test";
import { communityGate, entitlementGate } from "../../../runtime/license/entitlements.ts";
import { OTA_REFUSALS } from "../../../ota/reasons.ts";
import { planRelease, verifyRelease } from "../../../ota/verify/index.ts";
import type { ReleaseInput } from "../../../ota/verify/release.ts";
import { bytesOf, DAY, device, entryFor, index, iso, K, manifest, NOW, ROOT, rootOf, scenario, signed } from "../helpers.ts";

/** Every refusal code the tests below saw: all but the root chain's own must come up. */
const seen = new Set<string>();
function judge(input: ReleaseInput) {
  const d = verifyRelease(input);
  if (!d.ok) seen.add(d.code);
  return d;
}
const code = (input: ReleaseInput) => {
  const d = judge(input);
  return d.ok ? "install" : d.code;
};

afterAll(() => {
  const unseen = OTA_REFUSALS.filter((c) => !seen.has(c) && c !== "root_version");
  expect(unseen).toEqual([]);
});

describe("verifyRelease: the box's decision", () => {
  test("a fresh, signed, newer release for this box is installed, with the manifest and index it verified", () => {
    const d = judge(scenario());
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.manifest).toMatchObject({ name: "demo", version: "1.1.0", channel: "stable" });
    expect(d.index.version).toBe(5);
    expect(d.entry.manifest).toStartWith("manifests/demo/1.1.0/");
    expect(d.rollout.by).toBe("percent");
  });

  test("nothing installed yet, or another base model installed: a new install", () => {
    expect(code(scenario({ input: { installed: null } }))).toBe("install");
    expect(code(scenario({ input: { installed: { name: "other-model", version: "9.0.0" } } }))).toBe("install");
  });

  describe("freshness (freeze attacks)", () => {
    test("an expired index is refused; one millisecond before expiry it is accepted", () => {
      const s = scenario();
      const expires = NOW + 7 * DAY;
      expect(code({ ...s, now: expires - 1 })).toBe("install");
      expect(code({ ...s, now: expires })).toBe("index_expired");
    });

    test("an expired manifest is refused even under a fresh index", () => {
      expect(code(scenario({ manifest: { expiresAt: iso(NOW - 1) } }))).toBe("manifest_expired");
    });

    test("an expired root vouches for no fresh data", () => {
      expect(code(scenario({ input: { root: rootOf(1, undefined, iso(NOW - DAY)) } }))).toBe("root_expired");
    });
  });

  describe("rollback protection", () => {
    test("an index older than the stored one is refused; the same version is fine", () => {
      expect(code(scenario({ input: { storedIndexVersion: 6 } }))).toBe("index_rollback");
      expect(code(scenario({ input: { storedIndexVersion: 5 } }))).toBe("install");
    });

    test("the installed version: up to date, older refused, older with a signed rollback to exactly it", () => {
      expect(code(scenario({ input: { installed: { name: "demo", version: "1.1.0" } } }))).toBe("up_to_date");
      expect(code(scenario({ input: { installed: { name: "demo", version: "1.2.0" } } }))).toBe("older_than_installed");
      expect(code(scenario({ input: { installed: { name: "demo", version: "1.2.0" }, allowRollbackTo: "1.1.0" } }))).toBe("install");
      expect(code(scenario({ input: { installed: { name: "demo", version: "1.2.0" }, allowRollbackTo: "1.0.0" } }))).toBe("older_than_installed");
    });

    test("the box's own versions that are not semver never throw", () => {
      expect(code(scenario({ input: { installed: { name: "demo", version: "hand-copied" } } }))).toBe("install");
      expect(code(scenario({ input: { installed: { name: "demo", version: "2.0.0" }, allowRollbackTo: "latest" } }))).toBe("older_than_installed");
      expect(code({ ...scenario(), device: device({ runtimeVersion: "dev" }) })).toBe("runtime_too_old");
    });

    test("a pre-release sorts before its release", () => {
      expect(code(scenario({ manifest: { version: "1.1.0-rc.1" }, input: { installed: { name: "demo", version: "1.1.0" } } }))).toBe("older_than_installed");
      expect(code(scenario({ manifest: { version: "1.1.0" }, input: { installed: { name: "demo", version: "1.1.0-rc.1" } } }))).toBe("install");
    });

    test("a refused release still hands back the verified index, so the box stores its version", () => {
      const d = judge(scenario({ input: { installed: { name: "demo", version: "1.1.0" } } }));
      expect(d).toMatchObject({ ok: false, code: "up_to_date", index: { version: 5 } });
      expect(judge(scenario({ input: { storedIndexVersion: 9 } }))).toMatchObject({ code: "index_rollback", index: null });
    });
  });

  describe("tampering and mix-and-match", () => {
    test("flipping any single byte of the manifest is refused", () => {
      const s = scenario();
      for (let i = 0; i < s.manifest.byteLength; i++) {
        const flipped = s.manifest.slice();
        flipped[i]! ^= 0x01;
        expect(judge({ ...s, manifest: flipped })).toMatchObject({ ok: false, code: "manifest_mismatch" });
      }
    });

    test("flipping any single byte of the index is refused", () => {
      const s = scenario();
      for (let i = 0; i < s.index.byteLength; i++) {
        const flipped = s.index.slice();
        flipped[i]! ^= 0x01;
        const d = judge({ ...s, index: flipped });
        expect(d.ok).toBe(false);
      }
    });

    test("a manifest longer than the index declares is refused unread; a shorter one does not match", () => {
      const s = scenario();
      expect(code({ ...s, manifest: new Uint8Array([...s.manifest, 0x20]) })).toBe("oversized");
      expect(code({ ...s, manifest: s.manifest.slice(0, -1) })).toBe("manifest_mismatch");
    });

    test("a compromised index key cannot forge a release: the manifest needs release keys", () => {
      const forged = manifest({ files: [{ name: "evil.gguf", quantization: "Q4_0", size: 10, sha256: "b".repeat(64), urls: ["https://evil.example/x"] }] });
      const forgedBytes = bytesOf(signed(forged, K.i1));
      const idx = bytesOf(signed(index({ stable: [entryFor(forged, forgedBytes)] }), K.i1));
      expect(code({ ...scenario(), index: idx, manifest: forgedBytes })).toBe("insufficient_signatures");
    });

    test("release keys cannot sign the index; an unsigned index is refused", () => {
      const s = scenario();
      const env = JSON.parse(new TextDecoder().decode(s.index));
      expect(code({ ...s, index: bytesOf(signed(env.signed, K.l1, K.l2)) })).toBe("insufficient_signatures");
      expect(code({ ...s, index: bytesOf({ signed: env.signed, signatures: [] }) })).toBe("insufficient_signatures");
    });

    test("an index naming a channel that could not be a channel name is malformed", () => {
      const s = scenario();
      const env = JSON.parse(new TextDecoder().decode(s.index));
      const odd = { ...env.signed, channels: { ...env.signed.channels, "../etc": { releases: [] } } };
      expect(code({ ...s, index: bytesOf(signed(odd, K.i1)) })).toBe("malformed");
    });

    test("an index of a format version this runtime does not read is refused", () => {
      const s = scenario();
      const env = JSON.parse(new TextDecoder().decode(s.index));
      expect(code({ ...s, index: bytesOf(signed({ ...env.signed, specVersion: 2 }, K.i1)) })).toBe("unsupported_format");
    });

    test("a manifest served where the index belongs is refused (signature first, then type)", () => {
      const s = scenario();
      expect(code({ ...s, index: s.manifest })).toBe("insufficient_signatures");
      // Even if the index role held the release key, the type tells them apart.
      const shared = rootOf(1);
      shared.roles.index = { keyIds: ["release-1"], threshold: 1 };
      expect(code({ ...s, root: shared, index: s.manifest })).toBe("wrong_type");
    });

    test("a validly signed manifest of another version than the index names is refused", () => {
      const m = manifest({ version: "1.1.0" });
      const other = bytesOf(signed(manifest({ version: "1.0.5" }), K.l1));
      const entry = { ...entryFor(m, other), version: "1.1.0" };
      const idx = bytesOf(signed(index({ stable: [entry] }), K.i1));
      expect(judge({ ...scenario(), index: idx, manifest: other })).toMatchObject({ code: "manifest_mismatch", field: "version" });
    });

    test("a non-http(s) file URL or a file name with a path is malformed", () => {
      for (const file of [
        { name: "x.gguf", quantization: "Q4_0", size: 1, sha256: "a".repeat(64), urls: ["file:///etc/passwd"] },
        { name: "x.gguf", quantization: "Q4_0", size: 1, sha256: "a".repeat(64), urls: ["ftp://mirror/x.gguf"] },
        { name: "x.gguf", quantization: "Q4_0", size: 1, sha256: "a".repeat(64), urls: ["../../secret"] },
        { name: "../x.gguf", quantization: "Q4_0", size: 1, sha256: "a".repeat(64), urls: ["files/x"] },
        { name: ".hidden", quantization: "Q4_0", size: 1, sha256: "a".repeat(64), urls: ["files/x"] },
      ]) {
        expect(judge(scenario({ manifest: { files: [file] } }))).toMatchObject({ code: "malformed" });
      }
    });
  });

  describe("eligibility: channel, runtime, entitlement, base, rollout", () => {
    test("the channel lists nothing for this box's channel or kind", () => {
      expect(code({ ...scenario(), device: device({ channel: "beta" }) })).toBe("no_release");
      expect(code({ ...scenario(), want: { kind: "lora", name: "adapter" } })).toBe("no_release");
    });

    test("a manifest for another channel, listed under this one, is refused as wrong_channel", () => {
      const m = manifest({ channel: "beta" });
      const mb = bytesOf(signed(m, K.l1));
      const idx = bytesOf(signed(index({ stable: [entryFor(m, mb)] }), K.i1));
      expect(judge({ ...scenario(), index: idx, manifest: mb })).toMatchObject({ code: "wrong_channel", field: "channel" });
    });

    test("a release needing a newer runtime is refused", () => {
      expect(judge(scenario({ manifest: { minRuntimeVersion: "0.2.0" } }))).toMatchObject({ code: "runtime_too_old", field: "minRuntimeVersion" });
      expect(code(scenario({ manifest: { minRuntimeVersion: "0.1.0" } }))).toBe("install");
    });

    test("an entitlement the license does not grant (or this runtime does not know) is refused", () => {
      const s = scenario({ manifest: { entitlement: "base_model_updates" } });
      expect(code(s)).toBe("install");
      expect(judge({ ...s, device: device({ gate: communityGate() }) })).toMatchObject({ code: "entitlement_required", field: "entitlement" });
      expect(code(scenario({ manifest: { entitlement: "future_thing" } }))).toBe("entitlement_required");
    });

    test("a LoRA applies only on its base model: name, version range and file hash", () => {
      const lora = { kind: "lora" as const, name: "legal-adapter", entitlement: "lora_adapters", base: { name: "demo", versions: "^1.1.0", sha256: "c".repeat(64) } };
      const base = { name: "demo", version: "1.1.3", sha256: "c".repeat(64) };
      const s = scenario({ manifest: lora, input: { installed: null, activeBase: base } });
      expect(code(s)).toBe("install");
      expect(code({ ...s, activeBase: null })).toBe("base_mismatch");
      expect(code({ ...s, activeBase: { ...base, name: "other" } })).toBe("base_mismatch");
      expect(code({ ...s, activeBase: { ...base, version: "2.0.0" } })).toBe("base_mismatch");
      expect(code({ ...s, activeBase: { ...base, sha256: "d".repeat(64) } })).toBe("base_mismatch");
      expect(code({ ...s, device: device({ gate: entitlementGate("smb", ["base_model_updates"], "test") }) })).toBe("entitlement_required");
    });

    test("rollout: 0% refuses unless the box is in a listed group", () => {
      const s = scenario({ manifest: { rollout: { percent: 0, groups: ["pilot"] } } });
      expect(judge(s)).toMatchObject({ code: "not_in_rollout", field: "rollout" });
      expect(judge({ ...s, device: device({ groups: ["north", "pilot"] }) })).toMatchObject({ ok: true, rollout: { by: "group" } });
    });

    test("the first problem is the one reported (channel before runtime before rollout)", () => {
      const s = scenario({ manifest: { minRuntimeVersion: "9.0.0", entitlement: "future_thing", rollout: { percent: 0, groups: [] } } });
      expect(code(s)).toBe("runtime_too_old");
    });
  });

  test("planRelease names the manifest to fetch and its byte limit before it is fetched", () => {
    const s = scenario();
    const plan = planRelease(s);
    expect(plan).toMatchObject({ ok: true, entry: { name: "demo", kind: "base-model", length: s.manifest.byteLength } });
    expect(planRelease({ ...s, root: ROOT, now: NOW + 8 * DAY })).toMatchObject({ ok: false, code: "index_expired", index: null });
  });
});
