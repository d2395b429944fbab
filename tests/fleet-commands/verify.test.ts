import { describe, expect, test } from "bun:test";
import { verifyCommand, type CommandVerdict } from "../../runtime/fleet/commands/verify.ts";
import { MAX_COMMAND_BYTES } from "../../runtime/fleet/commands/limits.ts";
import { signedBytes } from "../../runtime/fleet/commands/signing.ts";
import { admin, context, DEVICE, encode, FLEET, KEY_ID, NOW, OTHER_DEVICE, signed, stranger, unsigned } from "./helpers.ts";

function refused(verdict: CommandVerdict) {
  if (verdict.ok) throw new Error(`accepted ${JSON.stringify(verdict.command)}`);
  return verdict;
}

const MIN = 60_000;

describe("verifyCommand", () => {
  test("a command signed by a fleet key, addressed to this box, in time and fresh is accepted with its checked args", () => {
    const cmd = signed();
    const verdict = verifyCommand(encode(cmd), context());
    expect(verdict).toEqual({ ok: true, command: cmd, args: { kind: "config.set", path: "log.level", value: "debug" } });
    // Spacing and key order are not signed: the same command re-serialised still verifies.
    const reordered = Object.fromEntries(Object.entries(cmd).reverse());
    expect(verifyCommand(encode(JSON.stringify(reordered, null, 2)), context()).ok).toBe(true);
    // A group command to a group this box is in.
    expect(verifyCommand(encode(signed({ target: { group: "north" } })), context()).ok).toBe(true);
  });

  test("forged payload: any signed field changed after signing is bad_signature", () => {
    const cmd = signed();
    for (const forged of [
      { ...cmd, args: { path: "log.level", value: "error" } },
      { ...cmd, kind: "config.unset" },
      { ...cmd, expiresAt: new Date(NOW + 23 * 3_600_000).toISOString() },
      { ...cmd, nonce: "a-fresh-nonce-0000000" },
    ]) {
      const v = refused(verifyCommand(encode(forged), context()));
      expect(v).toMatchObject({ code: "bad_signature", field: "signature", commandId: cmd.id });
      expect(v.reason).toContain(`fleet key "${KEY_ID}"`);
    }
  });

  test("forged signature: another key's signature under a trusted key id, or a mangled one, is bad_signature", () => {
    const byStranger = signed({}, stranger);
    expect(refused(verifyCommand(encode(byStranger), context())).code).toBe("bad_signature");
    const good = signed();
    const flipped = Buffer.from(good.signature, "base64");
    flipped[0]! ^= 1;
    expect(refused(verifyCommand(encode({ ...good, signature: flipped.toString("base64") }), context())).code).toBe("bad_signature");
    expect(refused(verifyCommand(encode({ ...good, signature: "not base64 at all" }), context())).code).toBe("bad_signature");
  });

  test("unsigned: a missing or empty signature is refused as unsigned", () => {
    const cmd = unsigned();
    expect(refused(verifyCommand(encode(cmd), context()))).toMatchObject({ code: "unsigned", field: "signature", commandId: cmd.id });
    expect(refused(verifyCommand(encode({ ...cmd, signature: "" }), context())).code).toBe("unsigned");
  });

  test("unknown key: a key id not in telemetry.fleetKeys, even with a valid signature by that key", () => {
    const v = refused(verifyCommand(encode(signed({ keyId: "someone-else" }, stranger)), context()));
    expect(v).toMatchObject({ code: "unknown_key", field: "keyId" });
    expect(v.reason).toContain('"someone-else"');
    // No fleet keys provisioned: nothing is accepted.
    expect(refused(verifyCommand(encode(signed()), context({ fleetKeys: [] }))).code).toBe("unknown_key");
  });

  test("wrong fleet", () => {
    const v = refused(verifyCommand(encode(signed({ fleet: "other-fleet" })), context()));
    expect(v).toMatchObject({ code: "wrong_fleet", field: "fleet" });
    expect(v.reason).toContain(`"${FLEET}"`);
  });

  test("misaddressed: another device, or a group this box has not joined", () => {
    const other = refused(verifyCommand(encode(signed({ target: { device: OTHER_DEVICE } })), context()));
    expect(other).toMatchObject({ code: "misaddressed", field: "target.device" });
    expect(other.reason).toContain(OTHER_DEVICE);
    expect(other.reason).toContain(DEVICE);
    const group = refused(verifyCommand(encode(signed({ target: { group: "south" } })), context()));
    expect(group).toMatchObject({ code: "misaddressed", field: "target.group" });
    expect(group.reason).toContain("clinics, north");
    expect(refused(verifyCommand(encode(signed({ target: { group: "north" } })), context({ groups: [] }))).reason).toContain("in no group");
  });

  test("expired, not yet valid (beyond the skew) and over-long lifetimes are refused", () => {
    const cmd = signed();
    const expired = refused(verifyCommand(encode(cmd), context({ now: NOW + 5 * MIN })));
    expect(expired).toMatchObject({ code: "expired", field: "expiresAt" });
    expect(expired.reason).toContain(cmd.expiresAt);
    expect(verifyCommand(encode(cmd), context({ now: NOW + 5 * MIN - 1 })).ok).toBe(true);

    // Issued 4 minutes "in the future" is clock skew; 6 minutes is refused.
    expect(verifyCommand(encode(cmd), context({ now: NOW - 4 * MIN })).ok).toBe(true);
    expect(refused(verifyCommand(encode(cmd), context({ now: NOW - 6 * MIN })))).toMatchObject({ code: "not_yet_valid", field: "issuedAt" });

    const iso = (ms: number) => new Date(ms).toISOString();
    expect(refused(verifyCommand(encode(signed({ expiresAt: iso(NOW + 25 * 3_600_000) })), context())).code).toBe("invalid_lifetime");
    expect(refused(verifyCommand(encode(signed({ expiresAt: iso(NOW) })), context())).code).toBe("invalid_lifetime");
    expect(verifyCommand(encode(signed({ expiresAt: iso(NOW + 24 * 3_600_000) })), context()).ok).toBe(true);
  });

  test("replayed: a nonce already seen", () => {
    const cmd = signed();
    const seen = new Set([cmd.nonce]);
    const v = refused(verifyCommand(encode(cmd), context({ nonceSeen: (n) => seen.has(n) })));
    expect(v).toMatchObject({ code: "replayed", field: "nonce", commandId: cmd.id });
  });

  test("unknown kind, and a kind whose hook this box was not given", () => {
    expect(refused(verifyCommand(encode(signed({ kind: "reboot", args: {} })), context()))).toMatchObject({ code: "unknown_kind", field: "kind" });
    const noFlush = refused(verifyCommand(encode(signed({ kind: "telemetry.flush", args: {} })), context({ kinds: ["config.set"] })));
    expect(noFlush.code).toBe("unknown_kind");
    expect(noFlush.reason).toContain("config.set");
  });

  test("invalid args are named; config paths off the allow-list are not_allowed", () => {
    const level = refused(verifyCommand(encode(signed({ args: { path: "log.level", value: "loud" } })), context()));
    expect(level).toMatchObject({ code: "invalid_args", field: "args.value" });
    expect(level.reason).toContain('"debug"');
    expect(refused(verifyCommand(encode(signed({ args: { path: "model.maxTokens", value: 0 } })), context())).reason).toContain("at least 1");
    expect(refused(verifyCommand(encode(signed({ args: { path: "log.level" } })), context()))).toMatchObject({ code: "invalid_args", field: "args.value" });
    expect(refused(verifyCommand(encode(signed({ args: { path: "log.level", value: "info", extra: 1 } })), context()))).toMatchObject({ code: "invalid_args", field: "args.extra" });
    expect(refused(verifyCommand(encode(signed({ kind: "telemetry.flush", args: { now: true } })), context())).code).toBe("invalid_args");
    expect(refused(verifyCommand(encode(signed({ kind: "license.install", args: { license: "%%%not base64%%%" } })), context()))).toMatchObject({ code: "invalid_args", field: "args.license" });

    const keys = refused(verifyCommand(encode(signed({ args: { path: "telemetry.fleetKeys", value: [] } })), context()));
    expect(keys).toMatchObject({ code: "not_allowed", field: "args.path" });
    expect(keys.reason).toContain('"telemetry.fleetKeys"');
    expect(refused(verifyCommand(encode(signed({ args: { path: "__proto__", value: 1 } })), context())).code).toBe("not_allowed");
    // Keyless inference may be closed remotely, never opened.
    expect(verifyCommand(encode(signed({ args: { path: "auth.openInference", value: false } })), context()).ok).toBe(true);
    const open = refused(verifyCommand(encode(signed({ args: { path: "auth.openInference", value: true } })), context()));
    expect(open).toMatchObject({ code: "not_allowed", field: "args.value" });
    expect(open.reason).toContain("auth.openInference");
  });

  test("malformed: not JSON, not an object, schema problems named, oversized refused unread", () => {
    expect(refused(verifyCommand(encode("{not json"), context()))).toMatchObject({ code: "malformed", field: "payload", commandId: null });
    expect(refused(verifyCommand(new Uint8Array([0xff, 0xfe, 0x7b]), context())).code).toBe("malformed");
    for (const doc of ["[]", "null", "42", '"text"']) expect(refused(verifyCommand(encode(doc), context())).code).toBe("malformed");

    const cmd = signed();
    const { nonce: _, ...noNonce } = cmd;
    expect(refused(verifyCommand(encode(noNonce), context()))).toMatchObject({ code: "malformed", field: "nonce", commandId: cmd.id });
    const both = refused(verifyCommand(encode({ ...cmd, target: { device: DEVICE, group: "north" } }), context()));
    expect(both).toMatchObject({ code: "malformed", field: "target" });
    expect(both.reason).toContain("either");
    expect(refused(verifyCommand(encode({ ...cmd, issuedAt: "Tuesday, sometime in May" }), context())).code).toBe("malformed");
    expect(refused(verifyCommand(encode({ ...cmd, expiresAt: "2026-06-01T12:05:00.000" }), context()))).toMatchObject({ code: "malformed", field: "expiresAt" });
    expect(refused(verifyCommand(encode({ ...cmd, id: "bad id/with slash" }), context()))).toMatchObject({ code: "malformed", field: "id", commandId: null });
    expect(refused(verifyCommand(encode({ ...cmd, signature: 42 }), context())).code).toBe("malformed");
    const { v: __, ...noVersion } = cmd;
    expect(refused(verifyCommand(encode(noVersion), context()))).toMatchObject({ code: "malformed", field: "v" });
    expect(refused(verifyCommand(encode({ ...cmd, v: 2 }), context()))).toMatchObject({ code: "unsupported_version", commandId: cmd.id });

    const huge = new Uint8Array(MAX_COMMAND_BYTES + 1).fill(0x20);
    const oversized = refused(verifyCommand(huge, context()));
    expect(oversized).toMatchObject({ code: "malformed", field: "payload", commandId: null });
    expect(oversized.reason).toContain(`${MAX_COMMAND_BYTES + 1} bytes`);
  });

  test("checks run in order: a forged command learns nothing about its addressing or times", () => {
    const forged = { ...signed({ target: { device: OTHER_DEVICE } }), args: { path: "log.level", value: "error" } };
    expect(refused(verifyCommand(encode(forged), context({ now: NOW + 3_600_000 }))).code).toBe("bad_signature");
    expect(refused(verifyCommand(encode(signed({ fleet: "x" }, stranger)), context())).code).toBe("wrong_fleet");
    // A replayed command to another box is misaddressed first.
    const cmd = signed({ target: { device: OTHER_DEVICE } });
    expect(refused(verifyCommand(encode(cmd), context({ nonceSeen: () => true }))).code).toBe("misaddressed");
  });

  test("signedBytes covers everything but the signature", () => {
    const cmd = signed();
    expect(signedBytes(cmd)).toEqual(signedBytes(unsigned({ id: cmd.id, nonce: cmd.nonce, issuedAt: cmd.issuedAt, expiresAt: cmd.expiresAt })));
    expect(admin.publicKey).toHaveLength(44);
  });
});
