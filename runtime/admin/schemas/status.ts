/** The dashboard's data: version, uptime, board, kernel build, models and the cached health sample. */
import { Type, type Static } from "@sinclair/typebox";
import { CandidateFitSchema } from "../../model/fit/schema.ts";
import { IsoTime, NullableIsoTime } from "./common.ts";

const Nullable = <T extends ReturnType<typeof Type.Object>>(t: T) => Type.Union([t, Type.Null()]);

export const Health = Type.Object(
  {
    sampledAt: IsoTime("When the sample was taken (sampled on an interval, never per request)"),
    uptimeSeconds: Type.Integer({ minimum: 0, description: "The machine's uptime" }),
    cpuLoadPercent: Type.Number({ minimum: 0 }),
    memory: Type.Object({ totalMB: Type.Integer(), usedMB: Type.Integer() }, { additionalProperties: false }),
    temperaturesC: Type.Array(Type.Object({ zone: Type.String(), celsius: Type.Number() }, { additionalProperties: false })),
    disk: Type.Object({ totalMB: Type.Integer(), usedMB: Type.Integer() }, { additionalProperties: false, description: "The filesystem holding the data dir" }),
    throttled: Type.Boolean({ description: "The board throttles right now (heat or power)" }),
  },
  { title: "Health", additionalProperties: false },
);
export type Health = Static<typeof Health>;

export const Kernel = Type.Object(
  { id: Type.String(), backend: Type.String(), fallbackReason: Type.Union([Type.String(), Type.Null()]) },
  { title: "Kernel", additionalProperties: false, description: "The llama.cpp build in use and, when it is not the preferred one, why" },
);

export const Slots = Type.Object(
  { total: Type.Integer(), busy: Type.Integer(), queued: Type.Integer(), queueCapacity: Type.Integer() },
  { title: "Slots", additionalProperties: false },
);

export const ModelState = Type.Union([Type.Literal("loading"), Type.Literal("ready"), Type.Literal("failed"), Type.Literal("refused")]);

export const ModelSummary = Type.Object(
  {
    id: Type.String(),
    field: Type.String({ description: 'The setting that configures it: "model" or "models[i]"' }),
    state: ModelState,
    code: Type.Union([Type.String(), Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()], { description: "Why it is not served (failed or refused)" }),
    slots: Nullable(Slots),
  },
  { title: "ModelSummary", additionalProperties: false },
);

export const StatusResponse = Type.Object(
  {
    version: Type.String({ description: "Runtime version" }),
    startedAt: IsoTime("When this server started"),
    uptimeSeconds: Type.Integer({ minimum: 0, description: "Seconds since this server started" }),
    board: Nullable(Type.Object({ kind: Type.String(), name: Type.String() }, { additionalProperties: false })),
    kernel: Nullable(Kernel),
    models: Type.Array(ModelSummary),
    license: Nullable(Type.Object({ tier: Type.String(), reason: Type.String() }, { additionalProperties: false })),
    health: Nullable(Health),
    healthError: Type.Union([Type.String(), Type.Null()], { description: "Why the last health sample failed, if it did" }),
  },
  { title: "StatusResponse", additionalProperties: false },
);
export type StatusResponse = Static<typeof StatusResponse>;

export const ModelDetail = Type.Object(
  {
    id: Type.String(),
    field: Type.String(),
    state: ModelState,
    active: Type.Boolean({ description: "The primary model (`model`), which requests without a known id use" }),
    code: Type.Union([Type.String(), Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()]),
    path: Type.String(),
    sizeBytes: Type.Union([Type.Integer(), Type.Null()]),
    contextSize: Type.Integer(),
    parallel: Type.Integer(),
    queueSize: Type.Integer(),
    slots: Nullable(Slots),
    kernel: Nullable(Kernel),
    settings: Nullable(
      Type.Object(
        { source: Type.String(), threads: Type.Integer(), batchSize: Type.Integer(), flashAttention: Type.Boolean(), gpuLayers: Type.Integer() },
        { additionalProperties: false, description: "llama.cpp settings in force and where they came from (config, calibrated, default)" },
      ),
    ),
    loadMs: Type.Union([Type.Number(), Type.Null()]),
    fit: Type.Union([CandidateFitSchema, Type.Null()], { description: "The memory fit computed at start (primary model), null when not known" }),
  },
  { title: "ModelDetail", additionalProperties: false },
);

export const InstalledModel = Type.Object(
  { path: Type.String(), sizeBytes: Type.Integer({ minimum: 0 }), modifiedAt: NullableIsoTime("Last modified"), served: Type.Boolean() },
  { title: "InstalledModel", additionalProperties: false },
);

export const ModelsResponse = Type.Object(
  {
    active: Type.Union([Type.String(), Type.Null()], { description: "Id of the primary model once it serves" }),
    models: Type.Array(ModelDetail, { description: "Configured models with their state, the primary first" }),
    installed: Type.Array(InstalledModel, { description: "GGUF files in the data dir's models folder and the configured paths" }),
  },
  { title: "ModelsResponse", additionalProperties: false },
);
export type ModelsResponse = Static<typeof ModelsResponse>;
