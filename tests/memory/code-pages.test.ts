import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanCodeMappings } from "../../runtime/memory/code-pages.ts";

// An excerpt of a real /proc/<pid>/smaps of `hearth serve` (fields trimmed to the ones read).
const SMAPS = `55d0a0000000-55d0a1000000 r--p 00000000 08:01 1234 /opt/hearth/node_modules/bun/bin/bun.exe
Rss:                1024 kB
Private_Dirty:         0 kB
55d0a1000000-55d0a4000000 r-xp 01000000 08:01 1234 /opt/hearth/node_modules/bun/bin/bun.exe
Rss:               40960 kB
Private_Dirty:         0 kB
55d0a4000000-55d0a4100000 rw-p 04000000 08:01 1234 /opt/hearth/node_modules/bun/bin/bun.exe
Rss:                 512 kB
Private_Dirty:       512 kB
7f0000000000-7f0000200000 r-xp 00000000 00:00 0
Rss:                2048 kB
Private_Dirty:      2048 kB
7f1000000000-7f1000100000 r-xp 00010000 08:01 99 /usr/lib/x86_64-linux-gnu/libpatched.so
Rss:                 100 kB
Private_Dirty:         4 kB
7f2000000000-7f2000080000 r-xp 00020000 08:01 77 /opt/hearth/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libllama.so
Rss:                 300 kB
Private_Dirty:         0 kB
7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]
Rss:                   8 kB
Private_Dirty:         0 kB
`;

describe("code pages", () => {
  test("only clean, executable file mappings are chosen", () => {
    const chosen = cleanCodeMappings(SMAPS);
    // Not: read-only data, writable data, anonymous JIT code, a text page someone wrote to, the vDSO.
    expect(chosen.map((m) => m.path)).toEqual([
      "/opt/hearth/node_modules/bun/bin/bun.exe",
      "/opt/hearth/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libllama.so",
    ]);
    expect(chosen[0]).toEqual({ start: 0x55d0a1000000n, length: 0x3000000n, path: "/opt/hearth/node_modules/bun/bin/bun.exe" });
  });

  test("a real process drops its code pages and keeps running every kind of code", async () => {
    // In a child process: its resident set is measured before and after, then it runs JS, native
    // SQLite, crypto and llama.cpp's GGUF reader, whose pages must come back on demand.
    const script = `
      import { dropCodePages } from ${JSON.stringify(join(import.meta.dir, "../../runtime/memory/code-pages.ts"))};
      import Database from "better-sqlite3";
      import { createHash } from "node:crypto";
      const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(require("fs").readFileSync("/proc/self/status", "utf8"))[1]);
      await import("node-llama-cpp");
      const before = rss();
      const dropped = await dropCodePages();
      const after = rss();
      const db = new Database(":memory:");
      const row = db.prepare("SELECT 40 + 2 AS n").get();
      const digest = createHash("sha256").update("hearth").digest("hex").slice(0, 8);
      console.log(JSON.stringify({ dropped, before, after, n: row.n, digest, json: JSON.parse(JSON.stringify({ a: [1, 2] })) }));
    `;
    const proc = Bun.spawn([process.execPath, "-e", script], { cwd: join(import.meta.dir, "../.."), stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const r = JSON.parse(out);
    expect(r.dropped.mappings).toBeGreaterThan(0);
    expect(r.dropped.bytes).toBeGreaterThan(1024 * 1024);
    expect(r.after).toBeLessThan(r.before);
    expect(r).toMatchObject({ n: 42, digest: "fe586323", json: { a: [1, 2] } });
  }, 30_000);
});
