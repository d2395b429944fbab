import { describe, expect, test } from "bun:test";
import { checkThreshold, validSigners } from "../../../ota/trust/threshold.ts";
import { openSigned, parseEnvelope } from "../../../ota/trust/envelope.ts";
import { MANIFEST_DOCUMENT } from "../../../ota/schema/manifest.ts";
import { bytesOf, K, manifest, rootOf, signed } from "../helpers.ts";

// Root role 2 of r1..r3 for these tests' documents; the release role is 1 of l1, l2.
const ROOT = rootOf(1);
const doc = manifest();

describe("threshold signatures", () => {
  test("a threshold of distinct role keys is accepted; below it is refused with the counts", () => {
    expect(checkThreshold(ROOT, "root", signed(doc, K.r1, K.r2), "doc")).toBeNull();
    expect(checkThreshold(ROOT, "root", signed(doc, K.r1, K.r2, K.r3), "doc")).toBeNull();
    const below = checkThreshold(ROOT, "root", signed(doc, K.r3), "doc");
    expect(below).toMatchObject({ ok: false, code: "insufficient_signatures", field: "signatures" });
    expect(below!.message).toContain("1 valid signature of root keys of root version 1; 2 are required");
    expect(checkThreshold(ROOT, "root", signed(doc), "doc")?.code).toBe("insufficient_signatures");
  });

  test("one key signing twice counts once", () => {
    const env = signed(doc, K.r1);
    const twice = { ...env, signatures: [env.signatures[0]!, env.signatures[0]!] };
    expect(validSigners(ROOT, "root", twice)).toEqual(["root-1"]);
    expect(checkThreshold(ROOT, "root", twice, "doc")?.code).toBe("insufficient_signatures");
  });

  test("one public key listed under two key ids counts once", () => {
    const aliased = rootOf(1);
    aliased.keys["root-1-alias"] = { type: "ed25519", publicKey: K.r1.publicKey };
    aliased.roles.root.keyIds.push("root-1-alias");
    const env = signed(doc, K.r1, { ...K.r1, keyId: "root-1-alias" });
    expect(env.signatures).toHaveLength(2);
    expect(checkThreshold(aliased, "root", env, "doc")?.code).toBe("insufficient_signatures");
  });

  test("unknown key ids are ignored, not fatal", () => {
    const env = signed(doc, K.stranger, K.r1, K.r2);
    expect(checkThreshold(ROOT, "root", env, "doc")).toBeNull();
    expect(validSigners(ROOT, "root", env)).toEqual(["root-1", "root-2"]);
  });

  test("a stranger's key under a trusted key id does not verify", () => {
    const env = signed(doc, { ...K.stranger, keyId: "root-1" }, K.r2);
    expect(checkThreshold(ROOT, "root", env, "doc")?.code).toBe("insufficient_signatures");
  });

  test("keys of another role do not count (release keys cannot sign the index)", () => {
    const env = signed(doc, K.l1, K.l2);
    expect(checkThreshold(ROOT, "release", env, "doc")).toBeNull();
    expect(checkThreshold(ROOT, "index", env, "doc")?.code).toBe("insufficient_signatures");
    expect(checkThreshold(ROOT, "root", env, "doc")?.code).toBe("insufficient_signatures");
  });

  test("a signature over other content (any changed value) does not verify", () => {
    const env = signed(doc, K.l1);
    const altered = { ...env, signed: { ...env.signed, version: "9.9.9" } };
    expect(checkThreshold(ROOT, "release", altered, "doc")?.code).toBe("insufficient_signatures");
  });

  test("spacing and key order are not signed (canonical JSON)", () => {
    const env = signed(doc, K.l1);
    const reordered = JSON.stringify({ signatures: env.signatures, signed: Object.fromEntries(Object.entries(env.signed).reverse()) });
    const parsed = parseEnvelope(bytesOf(reordered), 1 << 20, "doc");
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(checkThreshold(ROOT, "release", parsed.value, "doc")).toBeNull();
  });

  test("envelope parsing: oversized, not JSON, not an envelope, too many signatures", () => {
    const ok = bytesOf(signed(doc, K.l1));
    expect(parseEnvelope(ok, ok.byteLength - 1, "doc")).toMatchObject({ code: "oversized" });
    expect(parseEnvelope(bytesOf("{not json"), 1000, "doc")).toMatchObject({ code: "malformed" });
    expect(parseEnvelope(new Uint8Array([0xff, 0xfe]), 1000, "doc")).toMatchObject({ code: "malformed" });
    expect(parseEnvelope(bytesOf(JSON.stringify({ signed: doc })), 1 << 20, "doc")).toMatchObject({ code: "malformed", field: "signatures" });
    const padded = signed(doc, K.l1);
    padded.signatures = Array.from({ length: 33 }, () => padded.signatures[0]!);
    expect(parseEnvelope(bytesOf(padded), 1 << 20, "doc")).toMatchObject({ code: "malformed", field: "signatures" });
  });

  test("content is judged after the signatures: type, format version, schema, extra rules", () => {
    const open = (over: object) => openSigned(signed({ ...doc, ...over } as never, K.l1) as never, MANIFEST_DOCUMENT);
    expect(open({})).toMatchObject({ ok: true });
    expect(open({ type: "hearth-ota-index" })).toMatchObject({ code: "wrong_type", field: "type" });
    expect(open({ specVersion: 2 })).toMatchObject({ code: "unsupported_format", field: "specVersion" });
    expect(open({ version: "1.0" })).toMatchObject({ code: "malformed", field: "version" });
    expect(open({ kind: "lora" })).toMatchObject({ code: "malformed", field: "base" });
    expect(open({ extra: true })).toMatchObject({ code: "malformed" });
  });
});
