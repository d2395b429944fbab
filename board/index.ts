/**
 * Board support: which board this is (from real signals, with the evidence) and its profile —
 * memory budget, GPU policy, threads, throttle signal, status pins. Kernel selection, fit and
 * calibration consume the BoardReport.
 */
export { detectBoard, type DetectOptions } from "./detect.ts";
export { formatBoardReport } from "./format.ts";
export { createThrottleReader, decodePiThrottle, type ThrottleReader, type ThrottleReading } from "./throttle.ts";
export { createSpawnRunner, type CommandRunner } from "./runner.ts";
export { liveSystemInfo, type SystemInfo } from "./system-info.ts";
export {
  BOARD_KINDS,
  CPU_FEATURES,
  BoardReportSchema,
  type BoardKind,
  type BoardReport,
  type Cpu,
  type CpuFeature,
  type Evidence,
  type GpioPin,
  type Gpu,
  type GpuPolicy,
  type Profile,
  type Storage,
  type ThermalZone,
  type ThrottleSpec,
} from "./schema.ts";
