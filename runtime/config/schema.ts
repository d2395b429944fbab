import { Type, type Static } from "@sinclair/typebox";

/**
 * The whole runtime configuration. This schema is the single source of truth: defaults, the
 * `HEARTH_*` environment variable names, validation messages and the CLI flags all derive from it.
 */
/** Config sections default to {} so every nested default applies; unknown keys are errors. */
const SECTION = { default: {}, additionalProperties: false } as const;

export const ChatWrapperFallback = Type.Union(
  [Type.Literal("chatML"), Type.Literal("general"), Type.Literal("llama3"), Type.Literal("llama2Chat"), Type.Literal("mistral")],
  { default: "chatML", description: "Chat format used when the model's own template cannot be resolved" },
);

export const ServerConfig = Type.Object(
  {
    host: Type.String({ default: "127.0.0.1", minLength: 1, description: "Address to listen on (0.0.0.0 for the LAN)" }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: "TCP port; 0 picks a free one" }),
    bodyLimitBytes: Type.Integer({ default: 1_048_576, minimum: 1024, description: "Largest request body accepted" }),
    idleTrimSeconds: Type.Integer({
      default: 30,
      minimum: 0,
      description: "After this many idle seconds following requests, give memory back to the system (garbage, free allocator pages, start-up code pages); 0 never",
    }),
  },
  SECTION,
);

export const LoraConfig = Type.Object(
  {
    path: Type.String({ minLength: 1, description: "LoRA adapter GGUF made for the served model (`hearth model synth-lora` writes test ones)" }),
    scale: Type.Number({
      default: 1,
      minimum: 0,
      maximum: 4,
      description: "How strongly the adapter applies: 0 leaves the model unchanged, 1 as trained",
    }),
  },
  { additionalProperties: false },
);

export const ModelConfig = Type.Object(
  {
    path: Type.Optional(Type.String({ minLength: 1, description: "GGUF file to serve; a demo model is generated when absent" })),
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: "Model id in the API; defaults to the file name" })),
    contextSize: Type.Integer({ default: 2048, minimum: 64, description: "Tokens of context per parallel sequence" }),
    parallel: Type.Integer({ default: 2, minimum: 1, maximum: 64, description: "Parallel sequences (slots)" }),
    queueSize: Type.Integer({ default: 16, minimum: 0, description: "Requests that may wait for a slot before 429" }),
    maxTokens: Type.Integer({ default: 1024, minimum: 1, description: "Upper bound of generated tokens per request" }),
    threads: Type.Integer({ default: 0, minimum: 0, description: "Inference threads; 0 picks by model size (see resolveThreads)" }),
    gpu: Type.Boolean({ default: false, description: "Offload to a GPU when one is present" }),
    embeddings: Type.Boolean({ default: true, description: "Serve /v1/embeddings from the loaded model" }),
    memoryBudgetMB: Type.Integer({
      default: 0,
      minimum: 0,
      description: "Memory the model and its KV cache may use; 0 takes the board profile's budget",
    }),
    chatWrapperFallback: ChatWrapperFallback,
    loras: Type.Array(LoraConfig, {
      default: [],
      description:
        "LoRA adapters applied to the served model, in order (JSON in the environment; needs the lora_adapters entitlement). " +
        "One that is missing or does not fit the model is not applied: the base model serves without it and /readyz says why",
    }),
  },
  SECTION,
);

/** A further model served alongside `model`; what it leaves out is taken from `model`. */
export const ExtraModelConfig = Type.Object(
  {
    path: Type.String({ minLength: 1, description: "GGUF file to serve" }),
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: "Model id in the API; defaults to the file name" })),
    contextSize: Type.Optional(Type.Integer({ minimum: 64, description: "Tokens of context per parallel sequence; default model.contextSize" })),
    parallel: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: "Parallel sequences (slots); default model.parallel" })),
    queueSize: Type.Optional(Type.Integer({ minimum: 0, description: "Requests that may wait for a slot before 429; default model.queueSize" })),
  },
  { additionalProperties: false },
);

export const CalibrationConfig = Type.Object(
  {
    auto: Type.Boolean({
      default: true,
      description: "Calibrate before serving when this board, kernel build and model have no stored calibration",
    }),
  },
  SECTION,
);

export const AuthConfig = Type.Object(
  {
    openInference: Type.Boolean({
      default: false,
      description: "Serve inference without API keys (trusted LAN only)",
    }),
  },
  SECTION,
);

export const VendorKeyConfig = Type.Object(
  {
    keyId: Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._-]+$", description: "The key id licenses name" }),
    publicKey: Type.String({ pattern: "^[A-Za-z0-9+/]{43}=$", description: "Base64 of the raw 32-byte Ed25519 public key" }),
    retired: Type.Boolean({ default: false, description: "A retired key's licenses are refused" }),
  },
  { additionalProperties: false },
);

export const LicenseConfig = Type.Object(
  {
    vendorKeys: Type.Array(VendorKeyConfig, {
      default: [],
      description: "Vendor public keys trusted for licenses (JSON in the environment); empty trusts the built-in list",
    }),
    clockToleranceSeconds: Type.Integer({
      default: 300,
      minimum: 0,
      description: "How far the wall clock may go back behind the trusted-time high-water mark before it is recorded as tampering",
    }),
    checkpointEvery: Type.Integer({ default: 1000, minimum: 1, description: "Usage records between signed ledger checkpoints" }),
  },
  SECTION,
);

export const FleetKeyConfig = Type.Object(
  {
    keyId: Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._-]+$", description: "The key id commands name" }),
    publicKey: Type.String({ pattern: "^[A-Za-z0-9+/]{43}=$", description: "Base64 of the raw 32-byte Ed25519 public key" }),
  },
  { additionalProperties: false },
);

const TOPIC_SEGMENT = "^[A-Za-z0-9_-]{1,64}$";

export const TelemetryConfig = Type.Object(
  {
    broker: Type.Optional(
      Type.String({ pattern: "^mqtts?://", description: "MQTT broker URL (mqtt:// or mqtts://); without one, messages wait in the outbox" }),
    ),
    fleet: Type.String({ default: "default", pattern: TOPIC_SEGMENT, description: "Fleet name: the topic segment after hearth/v1/" }),
    enabled: Type.Boolean({
      default: false,
      description: "The owner's opt-in to health and state telemetry (Community sends nothing without it); SMB usage and audit follow the license",
    }),
    groups: Type.Array(Type.String({ pattern: TOPIC_SEGMENT }), { default: [], description: "Groups this box belongs to, for fleet commands" }),
    username: Type.Optional(Type.String({ minLength: 1, description: "Broker user name" })),
    password: Type.Optional(Type.String({ minLength: 1, description: "Broker password" })),
    caFile: Type.Optional(Type.String({ minLength: 1, description: "CA certificate (PEM) that signed the broker's certificate" })),
    certFile: Type.Optional(Type.String({ minLength: 1, description: "Client certificate (PEM) for brokers that require one" })),
    keyFile: Type.Optional(Type.String({ minLength: 1, description: "Client certificate's private key (PEM)" })),
    fleetKeys: Type.Array(FleetKeyConfig, { default: [], description: "Fleet public keys whose signed commands this box accepts (JSON in the environment)" }),
    healthIntervalSeconds: Type.Integer({ default: 60, minimum: 1, description: "Seconds between health snapshots" }),
    usageIntervalSeconds: Type.Integer({ default: 60, minimum: 1, description: "Seconds between usage deltas" }),
    outboxMaxMessages: Type.Integer({
      default: 10_000,
      minimum: 100,
      description: "Outbox bound: beyond it the oldest health samples are dropped (usage and audit never are)",
    }),
    receipts: Type.Boolean({
      default: true,
      description:
        "Keep usage and audit messages until the collector's receipt names them, not only until the broker's PUBACK; " +
        "off for a fleet whose consumer is not `hearth fleet collect` (nothing would ever receipt them)",
    }),
    receiptTimeoutSeconds: Type.Integer({
      default: 300,
      minimum: 1,
      description: "Seconds after a PUBACK before a message without a receipt is sent again; doubles per resend, up to six hours",
    }),
  },
  SECTION,
);

export const LogConfig = Type.Object(
  {
    level: Type.Union([Type.Literal("debug"), Type.Literal("info"), Type.Literal("warn"), Type.Literal("error")], {
      default: "info",
    }),
  },
  SECTION,
);

/** `GET /metrics`: key names, models and usage volumes are business figures, so a token by default. */
export const MetricsConfig = Type.Object(
  {
    access: Type.Union([Type.Literal("token"), Type.Literal("lan")], {
      default: "token",
      description: "Who may scrape GET /metrics: token (Authorization: Bearer <admin token>) or lan (anyone who can reach the port)",
    }),
  },
  SECTION,
);

/** Over-the-air updates of the base model and LoRA adapters (ota/agent); off until `repo` and `releaseKeys` are set. */
export const OtaConfig = Type.Object(
  {
    repo: Type.Optional(Type.String({ pattern: "^https?://[^\\s]+$", description: "URL of the OTA repository (what `hearth fleet serve-repo` or any static server serves)" })),
    channel: Type.Optional(
      Type.String({ pattern: "^[a-z0-9][a-z0-9._-]{0,31}$", description: "Update channel to follow; default: the license's (community without base_model_updates)" }),
    ),
    releaseKeys: Type.Array(FleetKeyConfig, {
      default: [],
      description: "Root keys pinned on the box: the repository's first root must be signed by them (`hearth fleet root init` prints the JSON for the environment)",
    }),
    adapters: Type.Array(Type.String({ pattern: "^[a-z0-9][a-z0-9._-]{0,63}$" }), {
      default: [],
      description: "LoRA adapter releases to follow (by name), installed on top of the base model (needs lora_adapters)",
    }),
    checkIntervalMinutes: Type.Integer({ default: 360, minimum: 0, description: "Minutes between checks (±10% jitter); 0 checks only on demand" }),
    autoApply: Type.Boolean({ default: true, description: "Install a release a periodic check finds; off: only `hearth ota apply`, the admin page or a fleet command install" }),
    maxBytesPerSecond: Type.Integer({ default: 0, minimum: 0, description: "Download bandwidth cap; 0 for none" }),
    downloadWindow: Type.Optional(
      Type.String({ pattern: "^([01]\\d|2[0-3]):[0-5]\\d-([01]\\d|2[0-3]):[0-5]\\d$", description: 'Local time of day downloads run in, "HH:MM-HH:MM" (may wrap midnight)' }),
    ),
    healthCheckTimeoutMs: Type.Integer({ default: 30_000, minimum: 1, description: "The new model's health check (a short generation) must finish within this" }),
    diskMarginMB: Type.Integer({ default: 64, minimum: 0, description: "Free space kept beyond a download's size" }),
    stallTimeoutSeconds: Type.Integer({ default: 60, minimum: 1, description: "A download that receives nothing for this long reconnects" }),
  },
  SECTION,
);

export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({ default: "./data", minLength: 1, description: "Where the database and models live" }),
    server: ServerConfig,
    model: ModelConfig,
    models: Type.Array(ExtraModelConfig, {
      default: [],
      description:
        "Further models served alongside `model`, each under its own id (JSON in the environment; needs the multi_model entitlement). " +
        "Loaded after `model`, in order; one refused by the license or the memory left is not started and /readyz says why",
    }),
    calibration: CalibrationConfig,
    auth: AuthConfig,
    license: LicenseConfig,
    telemetry: TelemetryConfig,
    log: LogConfig,
    metrics: MetricsConfig,
    ota: OtaConfig,
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
