import { Type, type Static, type TSchema } from "@sinclair/typebox";

/**
 * The board report: what `detectBoard` returns and `hearth board --json` prints. This schema is the
 * single source of truth for its shape; kernel selection, fit and calibration read it.
 */
const literals = <const T extends string>(values: readonly T[], description: string) =>
  Type.Union(values.map((v) => Type.Literal(v)), { description });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const BOARD_KINDS = [
  "rpi5",
  "rpi4",
  "jetson-orin-nano",
  "jetson-orin-nx",
  "jetson-agx-orin",
  "jetson-xavier",
  "x86",
  "x86-nvidia",
  "generic",
] as const;
export const BoardKindSchema = literals(BOARD_KINDS, "Which supported board this is; generic when unknown or the signals are incomplete");
export type BoardKind = Static<typeof BoardKindSchema>;

/**
 * CPU features normalised across architectures. The x86 and Arm names of the same capability map
 * to one name (asimd → neon, asimddp → dotprod, avx512_vnni → avx512vnni, fphp+asimdhp → fp16).
 */
export const CPU_FEATURES = [
  "sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avxvnni",
  "avx512f", "avx512bw", "avx512vbmi", "avx512vnni", "avx512bf16", "amx_tile", "amx_int8",
  "neon", "dotprod", "fp16", "i8mm", "sve", "sve2", "sme",
] as const;
export const CpuFeatureSchema = literals(CPU_FEATURES, "Normalised CPU feature");
export type CpuFeature = Static<typeof CpuFeatureSchema>;

export const EvidenceSchema = Type.Object({
  source: Type.String({ description: "The file as the board sees it (under the detection root), or the command / call asked" }),
  says: Type.String({ description: "What it said that mattered" }),
});
export type Evidence = Static<typeof EvidenceSchema>;

export const CpuSchema = Type.Object({
  arch: literals(["x64", "arm64", "arm", "unknown"], "Instruction set, in Node's process.arch names"),
  model: Nullable(Type.String({ description: "Core or CPU model, e.g. Cortex-A76" })),
  logicalCpus: Type.Integer({ minimum: 0, description: "Processors listed by the kernel (SMT threads count)" }),
  cores: Type.Integer({ minimum: 0, description: "Physical cores" }),
  performanceCores: Type.Integer({ minimum: 0, description: "Physical cores that are not efficiency cores" }),
  efficiencyCores: Type.Integer({ minimum: 0, description: "Intel E-cores or Arm LITTLE cores; 0 on homogeneous CPUs" }),
  features: Type.Array(CpuFeatureSchema),
});
export type Cpu = Static<typeof CpuSchema>;

export const GpuSchema = Type.Object({
  vendor: literals(["nvidia", "amd", "intel", "other"], "GPU vendor"),
  name: Type.String(),
  vramBytes: Nullable(Type.Integer({ minimum: 0, description: "Dedicated memory; null when unified or unknown" })),
  unifiedMemory: Type.Boolean({ description: "Shares the system RAM with the CPU (Jetson)" }),
});
export type Gpu = Static<typeof GpuSchema>;

export const StorageSchema = Type.Object({
  mount: Type.String(),
  device: Nullable(Type.String({ description: "Block device of the root filesystem, e.g. /dev/mmcblk0p2" })),
  fsType: Nullable(Type.String()),
  sizeBytes: Nullable(Type.Integer({ minimum: 0 })),
  medium: literals(["mmc", "nvme", "scsi", "virtio", "unknown"], "mmc: SD card or eMMC; scsi: SATA or USB"),
});
export type Storage = Static<typeof StorageSchema>;

export const ThermalZoneSchema = Type.Object({
  zone: Type.String({ description: "sysfs directory name, e.g. thermal_zone0" }),
  type: Type.String({ description: "Sensor name, e.g. cpu-thermal" }),
  milliCelsius: Nullable(Type.Integer()),
  passiveTripMilliCelsius: Nullable(Type.Integer({ description: "Where the kernel starts throttling, when the zone says" })),
});
export type ThermalZone = Static<typeof ThermalZoneSchema>;

export const GpioPinSchema = Type.Object({
  headerPin: Type.Integer({ description: "Physical pin on the 40-pin header" }),
  name: Type.String({ description: "Signal name printed on the board's pinout" }),
  chip: Type.String({ description: "gpiochip label (stable across gpiochip renumbering)" }),
  line: Type.Integer({ minimum: 0, description: "Line offset within that chip" }),
});
export type GpioPin = Static<typeof GpioPinSchema>;

export const ThrottleSpecSchema = Type.Object({
  signal: literals(["vcgencmd", "thermal-zones", "none"], "Where throttling is read from"),
  zones: Type.Array(Type.String(), { description: "Thermal zone types to watch" }),
  limitMilliCelsius: Nullable(Type.Integer({ description: "Throttle point used when a zone states none" })),
});
export type ThrottleSpec = Static<typeof ThrottleSpecSchema>;

export const GPU_POLICIES = ["none", "offload-all", "fit-vram"] as const;
export type GpuPolicy = (typeof GPU_POLICIES)[number];

export const ProfileSchema = Type.Object({
  memoryBudgetBytes: Type.Integer({ minimum: 0, description: "For model weights + KV cache: total memory minus the reserve" }),
  osReserveBytes: Type.Integer({ minimum: 0, description: "Kept for the OS, the runtime and the GPU stack" }),
  gpuPolicy: literals(GPU_POLICIES, "none: CPU only; offload-all: every layer on the (unified-memory) GPU; fit-vram: as many layers as fit in VRAM"),
  vramBudgetBytes: Nullable(Type.Integer({ minimum: 0, description: "For fit-vram: VRAM minus its reserve" })),
  threads: Type.Integer({ minimum: 1, description: "Default inference threads" }),
  throttle: ThrottleSpecSchema,
  gpio: Type.Object({ led: Nullable(GpioPinSchema), button: Nullable(GpioPinSchema) }),
  reasons: Type.Object({
    memory: Type.String(),
    gpu: Type.String(),
    threads: Type.String(),
    throttle: Type.String(),
    gpio: Type.String(),
  }),
});
export type Profile = Static<typeof ProfileSchema>;

export const BoardReportSchema = Type.Object({
  kind: BoardKindSchema,
  name: Type.String({ description: "Human name, e.g. the device-tree model" }),
  soc: Nullable(Type.String({ description: "SoC compatible, e.g. brcm,bcm2712 or nvidia,tegra234" })),
  l4tRelease: Nullable(Type.String({ description: "Jetson Linux release, e.g. 36.3.0" })),
  cpu: CpuSchema,
  memoryBytes: Nullable(Type.Integer({ minimum: 0, description: "MemTotal" })),
  gpus: Type.Array(GpuSchema),
  storage: Nullable(StorageSchema),
  thermalZones: Type.Array(ThermalZoneSchema),
  profile: ProfileSchema,
  evidence: Type.Array(EvidenceSchema),
  notes: Type.Array(Type.String(), { description: "Signals that were missing or odd, without changing the kind" }),
  fallbackReason: Type.Optional(Type.String({ description: "Why the generic profile was chosen" })),
});
export type BoardReport = Static<typeof BoardReportSchema>;
