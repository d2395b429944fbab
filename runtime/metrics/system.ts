import type { Clock } from "../clock.ts";
import type { HealthSnapshot } from "../telemetry/health.ts";
import type { Registry } from "./registry.ts";

const MB = 1024 * 1024;

/** The runtime process itself, read at scrape time (cheap counters the runtime keeps anyway). */
export function processGauges(registry: Registry, deps: { clock: Clock; version: string }): void {
  const startedAt = deps.clock.now() / 1000;
  registry.gauge("hearth_build_info", "Always 1; the runtime version in a label", ["version"], (emit) => emit([deps.version], 1));
  registry.gauge("hearth_process_start_time_seconds", "When the runtime started, in seconds since the Unix epoch", [], (emit) => emit([], startedAt));
  registry.gauge("hearth_process_resident_memory_bytes", "Resident memory of the runtime process", [], (emit) => emit([], process.memoryUsage.rss()));
  // process.memoryUsage() reads counters the engine keeps (a few microseconds), no heap walk.
  registry.gauge("hearth_process_heap_total_bytes", "JavaScript heap reserved", [], (emit) => emit([], process.memoryUsage().heapTotal));
  registry.gauge("hearth_process_heap_used_bytes", "JavaScript heap in use", [], (emit) => emit([], process.memoryUsage().heapUsed));
}

/**
 * The machine, from the latest cached health snapshot: the getter returns what a sampler took on
 * its own interval, never samples now. Without a snapshot these families have no samples.
 */
export function healthGauges(registry: Registry, health: () => HealthSnapshot | null): void {
  const gauge = (name: string, help: string, read: (h: HealthSnapshot) => number) =>
    registry.gauge(name, help, [], (emit) => {
      const h = health();
      if (h) emit([], read(h));
    });
  gauge("hearth_system_uptime_seconds", "Time since the machine booted", (h) => h.uptimeSeconds);
  gauge("hearth_system_cpu_load_ratio", "CPU load over all cores, 0 to 1", (h) => h.cpuLoadPercent / 100);
  gauge("hearth_system_memory_total_bytes", "Memory of the machine (MiB resolution)", (h) => h.memory.totalMB * MB);
  gauge("hearth_system_memory_used_bytes", "Memory in use, page cache and buffers left out (MiB resolution)", (h) => h.memory.usedMB * MB);
  gauge("hearth_system_disk_total_bytes", "Size of the filesystem holding the data directory (MiB resolution)", (h) => h.disk.totalMB * MB);
  gauge("hearth_system_disk_used_bytes", "Used space of the filesystem holding the data directory (MiB resolution)", (h) => h.disk.usedMB * MB);
  gauge("hearth_system_throttled", "1 while the board throttles (heat or power), else 0", (h) => (h.throttled ? 1 : 0));
  registry.gauge("hearth_system_temperature_celsius", "Temperature of each thermal zone", ["zone"], (emit) => {
    for (const t of health()?.temperaturesC ?? []) emit([t.zone], t.celsius);
  });
}
