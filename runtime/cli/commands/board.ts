import { statSync } from "node:fs";
import type { Command } from "../command.ts";
import { JSON_OPTION } from "../command.ts";
import { HearthError } from "../../errors.ts";

export const boardCommand: Command = {
  path: ["board"],
  summary: "Detect the board (Jetson, Raspberry Pi, x86) and show its profile, with the evidence for both",
  options: {
    root: { type: "string", value: "DIR", description: "Read the board's files under DIR instead of / (a fixture or a copied dump)" },
    ...JSON_OPTION,
  },
  async run(ctx) {
    const root = typeof ctx.values.root === "string" ? ctx.values.root : undefined;
    // A mistyped --root would otherwise read as an empty board and quietly report "generic".
    if (root !== undefined && !statSync(root, { throwIfNoEntry: false })?.isDirectory()) {
      throw new HearthError("invalid_request", `--root ${root} is not a directory`, { field: "root" });
    }
    // Imported on use: detection pulls in systeminformation, which no other command needs.
    const { detectBoard, formatBoardReport } = await import("../../../board/index.ts");
    const report = await detectBoard({ root });
    ctx.io.out(ctx.values.json ? JSON.stringify(report) : formatBoardReport(report));
    return 0;
  },
};
