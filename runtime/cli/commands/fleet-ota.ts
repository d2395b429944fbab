import type { Command, CommandContext, OptionSpec } from "../command.ts";
import { JSON_OPTION } from "../command.ts";
import { intFlag, requiredFlag, stringFlag } from "../run.ts";
import { systemClock } from "../../clock.ts";
import { HearthError } from "../../errors.ts";
import { baseFlag, daysFlag, entitlementFlag, kindFlag, listFlag, percentFlag, thresholdFlag } from "../../../ota/publish/flags.ts";
import { readKeyList, signingKeys } from "../../../ota/publish/keys.ts";
import { publishRelease } from "../../../ota/publish/publish.ts";
import { initRoot, rotateRoot, type RoleSpec, type WrittenRoot } from "../../../ota/publish/root.ts";
import { refreshRepo, setRollout } from "../../../ota/publish/rollout.ts";
import { startRepoServer } from "../../../ota/repo-server.ts";
import type { RoleName } from "../../../ota/schema/root.ts";

// OptionSpec has no `multiple`; parseArgs takes it and collects every occurrence.
const repeatable = (value: string, description: string) => ({ type: "string", value, multiple: true, description }) as OptionSpec;

const REPO_OPTION: Record<string, OptionSpec> = { repo: { type: "string", value: "DIR", description: "The repository directory (what serve-repo or any static server serves)" } };
const KEY_OPTION: Record<string, OptionSpec> = { key: repeatable("FILE", "A release/index private key (fleet-private.pem or its keygen directory); repeat to reach a threshold") };
/** What every command that re-signs manifests and the index takes. */
const RESIGN_OPTIONS: Record<string, OptionSpec> = {
  expires: { type: "string", value: "DAYS", description: "Days until the signed manifests and index expire (default 30)" },
  ...KEY_OPTION,
  ...REPO_OPTION,
  ...JSON_OPTION,
};

const ROLE_OPTIONS: Record<string, OptionSpec> = {
  keys: repeatable("K1,K2", "Root keys: keygen directories, private keys (sign) or public key files"),
  threshold: { type: "string", value: "N", description: "Root keys that must sign the next root" },
  "release-keys": repeatable("K1,K2", "Keys that sign release manifests (default: the root keys)"),
  "release-threshold": { type: "string", value: "N", description: "Release keys that must sign a manifest (default 1)" },
  "index-keys": repeatable("K1,K2", "Keys that sign the channel index (default: the release keys)"),
  "index-threshold": { type: "string", value: "N", description: "Index keys that must sign the index (default 1)" },
  expires: { type: "string", value: "DAYS", description: "Days until the root expires (default 365)" },
};

/** The role given on the command line, or undefined when its keys were not named. */
function roleFlags(ctx: CommandContext, keysFlag: string, thresholdName: string, fallback?: RoleSpec): RoleSpec | undefined {
  const list = listFlag(ctx, keysFlag);
  if (list.length === 0) {
    if (ctx.values[thresholdName] !== undefined && !fallback) throw new HearthError("invalid_request", `--${thresholdName} needs --${keysFlag}`, { field: thresholdName });
    return fallback && { keys: fallback.keys, threshold: thresholdFlag(ctx, thresholdName, 1) };
  }
  return { keys: readKeyList(list, keysFlag), threshold: thresholdFlag(ctx, thresholdName, keysFlag === "keys" ? undefined : 1) };
}

function describeRoot(ctx: CommandContext, written: WrittenRoot): void {
  const { root, path } = written;
  if (ctx.values.json) return ctx.io.out(JSON.stringify({ path, root }));
  const roles = (["root", "release", "index"] as RoleName[]).map((r) => `  ${r.padEnd(8)} ${root.roles[r].threshold} of ${root.roles[r].keyIds.join(", ")}`);
  const pinned = root.roles.root.keyIds.map((keyId) => ({ keyId, publicKey: root.keys[keyId]!.publicKey }));
  const next =
    root.version === 1
      ? `Boxes trust it from a provisioned copy of root/1.root.json, or from the root keys pinned in config:\n  HEARTH_OTA_RELEASE_KEYS='${JSON.stringify(pinned)}'`
      : "Boxes move to it at their next check. If release or index keys changed, re-sign what the index lists with `hearth fleet refresh --key NEW`.";
  ctx.io.out(`Wrote root version ${root.version} (expires ${root.expiresAt}): ${path}\n${roles.join("\n")}\n\n${next}`);
}

const rootInitCommand: Command = {
  path: ["fleet", "root", "init"],
  summary: "Create an OTA repository's first root document: the keys boxes trust for roots, releases and the channel index",
  options: { ...ROLE_OPTIONS, ...REPO_OPTION, ...JSON_OPTION },
  async run(ctx) {
    const root = roleFlags(ctx, "keys", "threshold");
    if (!root) throw new HearthError("invalid_request", "--keys is required", { field: "keys" });
    const release = roleFlags(ctx, "release-keys", "release-threshold", root)!;
    const index = roleFlags(ctx, "index-keys", "index-threshold", release)!;
    describeRoot(ctx, await initRoot(requiredFlag(ctx, "repo"), { root, release, index, expiresDays: daysFlag(ctx, "expires", 365) }, systemClock));
    return 0;
  },
};

const rootRotateCommand: Command = {
  path: ["fleet", "root", "rotate"],
  summary: "Write the next root version: replace the root, release or index keys (roles not named carry over)",
  options: {
    ...ROLE_OPTIONS,
    "sign-with": repeatable("K1,K2", "Private keys of the current root (a threshold of them must sign)"),
    ...REPO_OPTION,
    ...JSON_OPTION,
  },
  async run(ctx) {
    const signWith = signingKeys(readKeyList(listFlag(ctx, "sign-with"), "sign-with"), "sign-with");
    const spec = { expiresDays: daysFlag(ctx, "expires", 365) } as Partial<Record<RoleName, RoleSpec>> & { expiresDays: number };
    for (const [role, keys, threshold] of [["root", "keys", "threshold"], ["release", "release-keys", "release-threshold"], ["index", "index-keys", "index-threshold"]] as const) {
      const given = roleFlags(ctx, keys, threshold);
      if (given) spec[role] = given;
    }
    describeRoot(ctx, await rotateRoot(requiredFlag(ctx, "repo"), spec, signWith, systemClock));
    return 0;
  },
};

const signers = (ctx: CommandContext) => signingKeys(readKeyList(listFlag(ctx, "key"), "key"), "key");

const publishCommand: Command = {
  path: ["fleet", "publish"],
  summary: "Publish a base model or LoRA release: hash and store the files, sign the manifest and a new channel index",
  args: "FILE...",
  options: {
    name: { type: "string", value: "N", description: "Release name, e.g. llama-3b-instruct" },
    version: { type: "string", value: "V", description: "Semantic version, newer than the channel's current one" },
    channel: { type: "string", value: "C", description: "Update channel, e.g. stable" },
    kind: { type: "string", value: "base-model|lora", description: "What the files are (default base-model)" },
    base: { type: "string", value: "NAME@VERSIONS", description: "For a LoRA: the base model and version range it applies to, e.g. llama-3b@^1.2.0" },
    "base-sha256": { type: "string", value: "HEX", description: "For a LoRA: only on the base model file with this SHA-256" },
    entitlement: { type: "string", value: "E", description: "License entitlement required (default lora_adapters for a LoRA, none for a base model)" },
    "min-runtime": { type: "string", value: "V", description: "Oldest runtime version that may install it (default 0.0.0)" },
    percent: { type: "string", value: "P", description: "Rollout percentage (default 100)" },
    group: repeatable("G", "Device groups that get it whatever the percentage (repeatable)"),
    "url-base": { type: "string", value: "URL", description: "A mirror or CDN holding the repository's files/, listed before the repository" },
    ...RESIGN_OPTIONS,
  },
  async run(ctx) {
    const kind = kindFlag(stringFlag(ctx, "kind"));
    const published = await publishRelease(
      {
        repo: requiredFlag(ctx, "repo"),
        files: ctx.positionals,
        kind,
        name: requiredFlag(ctx, "name"),
        version: requiredFlag(ctx, "version"),
        channel: requiredFlag(ctx, "channel"),
        base: baseFlag(stringFlag(ctx, "base"), stringFlag(ctx, "base-sha256")),
        entitlement: entitlementFlag(stringFlag(ctx, "entitlement"), kind),
        minRuntimeVersion: stringFlag(ctx, "min-runtime") ?? "0.0.0",
        rollout: { percent: percentFlag(stringFlag(ctx, "percent")) ?? 100, groups: listFlag(ctx, "group") },
        expiresDays: daysFlag(ctx, "expires", 30),
        urlBase: stringFlag(ctx, "url-base"),
        keys: signers(ctx),
      },
      systemClock,
    );
    const { manifest: m, entry, index } = published;
    if (ctx.values.json) ctx.io.out(JSON.stringify({ manifest: m, entry, indexVersion: index.version }));
    else {
      const files = m.files.map((f) => `  ${f.name}  ${f.quantization}  ${f.size} bytes  sha256 ${f.sha256}`).join("\n");
      ctx.io.out(`Published ${m.kind} ${m.name} ${m.version} to channel ${m.channel} (rollout ${m.rollout.percent}%), index version ${index.version}\n  manifest ${entry.manifest}\n${files}`);
    }
    return 0;
  },
};

const rolloutCommand: Command = {
  path: ["fleet", "rollout"],
  summary: "Change the rollout of a channel's current release (percentage and groups); re-signs its manifest and the index",
  options: {
    channel: { type: "string", value: "C", description: "Update channel" },
    name: { type: "string", value: "N", description: "The release (default: the channel's only release, else its base model)" },
    percent: { type: "string", value: "P", description: "New rollout percentage (default: unchanged)" },
    group: repeatable("G", "Device groups that get it whatever the percentage; replaces the list (repeatable)"),
    "no-groups": { type: "boolean", description: "Clear the groups" },
    ...RESIGN_OPTIONS,
  },
  async run(ctx) {
    const groups = listFlag(ctx, "group");
    if (ctx.values["no-groups"] && groups.length > 0) throw new HearthError("invalid_request", "--group and --no-groups: pick one", { field: "group" });
    const { manifest: m, index } = await setRollout(
      {
        repo: requiredFlag(ctx, "repo"),
        channel: requiredFlag(ctx, "channel"),
        name: stringFlag(ctx, "name"),
        percent: percentFlag(stringFlag(ctx, "percent")),
        groups: ctx.values["no-groups"] ? [] : groups.length > 0 ? groups : undefined,
        expiresDays: daysFlag(ctx, "expires", 30),
        keys: signers(ctx),
      },
      systemClock,
    );
    if (ctx.values.json) ctx.io.out(JSON.stringify({ name: m.name, version: m.version, channel: m.channel, rollout: m.rollout, indexVersion: index.version }));
    else ctx.io.out(`${m.name} ${m.version} on ${m.channel}: rollout ${m.rollout.percent}%${m.rollout.groups.length ? ` and groups ${m.rollout.groups.join(", ")}` : ""}, index version ${index.version}`);
    return 0;
  },
};

const refreshCommand: Command = {
  path: ["fleet", "refresh"],
  summary: "Re-sign every listed release and the channel index with fresh expiry dates (before they expire, and after rotating release or index keys)",
  options: RESIGN_OPTIONS,
  async run(ctx) {
    const { manifests, index } = await refreshRepo({ repo: requiredFlag(ctx, "repo"), expiresDays: daysFlag(ctx, "expires", 30), keys: signers(ctx) }, systemClock);
    const releases = manifests.map((m) => ({ channel: m.channel, name: m.name, version: m.version }));
    if (ctx.values.json) ctx.io.out(JSON.stringify({ releases, indexVersion: index.version, expiresAt: index.expiresAt }));
    else ctx.io.out(`Re-signed ${releases.length} release${releases.length === 1 ? "" : "s"} and index version ${index.version}, valid until ${index.expiresAt}`);
    return 0;
  },
};

const serveRepoCommand: Command = {
  path: ["fleet", "serve-repo"],
  summary: "Serve an OTA repository over HTTP with Range requests and ETags (runs until SIGINT/SIGTERM)",
  args: "DIR",
  options: {
    port: { type: "string", value: "N", description: "TCP port (default 8090; 0 picks a free one)" },
    host: { type: "string", value: "H", description: "Address to listen on (default 127.0.0.1; 0.0.0.0 for the LAN)" },
  },
  async run(ctx) {
    const dir = ctx.positionals[0];
    if (!dir || ctx.positionals.length > 1) throw new HearthError("invalid_request", "give exactly one repository DIR", { field: "dir" });
    const port = intFlag(ctx.values, "port") ?? 8090;
    if (port < 0 || port > 65535) throw new HearthError("invalid_request", `--port ${port} must be between 0 and 65535`, { field: "port" });
    const server = startRepoServer({ dir, host: stringFlag(ctx, "host") ?? "127.0.0.1", port });
    ctx.io.out(`Serving ${dir} at ${server.url}/`);
    return await new Promise<number>((resolve) => {
      const stop = () => void server.stop().then(() => resolve(0));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
  },
};

/** `hearth fleet publish | serve-repo | rollout | refresh | root …`: the OTA release repository (issue 6). */
export const fleetOtaCommands: Command[] = [rootInitCommand, rootRotateCommand, publishCommand, rolloutCommand, refreshCommand, serveRepoCommand];
