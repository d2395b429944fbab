/**
 * Creating and rotating the repository's root (`hearth fleet root init | rotate`). A root is
 * written only after it verifies as a box would verify it: root 1 against its own root keys, root
 * N+1 against root N's and its own (trust/root-chain.ts), so a rotation that would strand the
 * fleet is refused before anything is written.
 */
import { existsSync, mkdirSync } from "node:fs";
import type { Clock } from "../../runtime/clock.ts";
import { HearthError } from "../../runtime/errors.ts";
import { writeFileDurably } from "../../runtime/license/durable-write.ts";
import { validate } from "../../runtime/validation.ts";
import type { Refusal } from "../reasons.ts";
import { OTA_SPEC_VERSION } from "../schema/common.ts";
import { ROLES, ROOT_TYPE, RootSchema, rootProblem, type Role, type RoleName, type Root } from "../schema/root.ts";
import { envelopeText, signEnvelope } from "../trust/envelope.ts";
import { loadTrustedRoot, nextRoot } from "../trust/root-chain.ts";
import type { RepoKey, SigningKey } from "./keys.ts";
import { inRepo, rootFile } from "../layout.ts";
import { withRepoLock } from "./lock.ts";
import { readRoots } from "./repo-state.ts";
import { isoIn } from "./repo-write.ts";

export interface RoleSpec {
  keys: readonly RepoKey[];
  threshold: number;
}

export type RootSpec = Record<RoleName, RoleSpec> & { expiresDays: number };

export interface WrittenRoot {
  root: Root;
  path: string;
}

function buildRoot(version: number, spec: RootSpec, now: number): Root {
  const keys: Root["keys"] = {};
  const roles = {} as Record<RoleName, Role>;
  for (const name of ROLES) {
    for (const k of spec[name].keys) {
      const known = keys[k.keyId];
      if (known && known.publicKey !== k.publicKey) throw new HearthError("invalid_request", `two different keys are named ${k.keyId}`, { field: "keys" });
      keys[k.keyId] = { type: "ed25519", publicKey: k.publicKey };
    }
    roles[name] = { keyIds: spec[name].keys.map((k) => k.keyId), threshold: spec[name].threshold };
  }
  const root: Root = { type: ROOT_TYPE, specVersion: OTA_SPEC_VERSION, version, issuedAt: new Date(now).toISOString(), expiresAt: isoIn(now, spec.expiresDays), keys, roles };
  validate(RootSchema, root);
  const problem = rootProblem(root);
  if (problem) throw new HearthError("invalid_request", problem.text, { field: problem.field.startsWith("roles.") ? problem.field.split(".")[1] : "keys" });
  return root;
}

/** The signers among `keys` (those given with their private key), once per key id. */
const signersOf = (keys: readonly RepoKey[]): SigningKey[] => keys.flatMap((k) => (k.signer ? [{ keyId: k.keyId, signer: k.signer }] : []));

function refusedRoot(refusal: Refusal, hint: string): never {
  throw new HearthError("invalid_request", `${refusal.message}: ${hint}`, { field: "sign-with" });
}

/** Writes root/1.root.json, signed by the root keys given with their private keys. */
export async function initRoot(dir: string, spec: RootSpec, clock: Clock): Promise<WrittenRoot> {
  mkdirSync(dir, { recursive: true });
  return withRepoLock(dir, async () => {
    const path = inRepo(dir, rootFile(1));
    if (existsSync(path)) throw new HearthError("invalid_request", `${path} exists: this repository has a root already (rotate it with \`hearth fleet root rotate\`)`, { field: "repo" });
    const root = buildRoot(1, spec, clock.now());
    const text = envelopeText(signEnvelope(root, signersOf(spec.root.keys)));
    const verified = loadTrustedRoot(Buffer.from(text));
    if (!verified.ok) refusedRoot(verified, "give at least the threshold of --keys as private key files");
    writeFileDurably(path, text);
    return { root, path };
  });
}

/**
 * Writes root N+1: the roles given in `spec` replace the current ones, the others carry over. It
 * is signed by `signWith` (a threshold of the current root keys) and the new root keys given with
 * their private keys (a threshold of those too).
 */
export async function rotateRoot(dir: string, spec: Partial<Record<RoleName, RoleSpec>> & { expiresDays: number }, signWith: readonly SigningKey[], clock: Clock): Promise<WrittenRoot> {
  return withRepoLock(dir, async () => {
    const current = readRoots(dir).at(-1)!;
    const carried = (name: RoleName): RoleSpec => ({
      keys: current.roles[name].keyIds.map((keyId) => ({ keyId, publicKey: current.keys[keyId]!.publicKey })),
      threshold: current.roles[name].threshold,
    });
    const full: RootSpec = { root: spec.root ?? carried("root"), release: spec.release ?? carried("release"), index: spec.index ?? carried("index"), expiresDays: spec.expiresDays };
    const root = buildRoot(current.version + 1, full, clock.now());
    const text = envelopeText(signEnvelope(root, [...signWith, ...signersOf(full.root.keys)]));
    const verified = nextRoot(current, Buffer.from(text));
    if (!verified.ok) refusedRoot(verified, "--sign-with must hold a threshold of the current root keys and the new root keys a threshold of their own (as private key files)");
    const path = inRepo(dir, rootFile(root.version));
    writeFileDurably(path, text);
    return { root, path };
  });
}
