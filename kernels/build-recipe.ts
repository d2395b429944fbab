#!/usr/bin/env bun
/**
 * Builds a recipe's llama.cpp at image build time: `bun kernels/build-recipe.ts --recipe ID
 * [--dry-run]`. Uses node-llama-cpp's own `source download` (from the llama.cpp git bundle it
 * ships, so no network) and `source build`, with the recipe's CMake options in the environment,
 * then records the build in kernels/built/ID.json, which kernel selection looks for.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { RECIPES, recipeEnv, type Recipe } from "./recipes.ts";
import { recipeMarker } from "./catalog.ts";

const APP_ROOT = join(import.meta.dir, "..");

export function recipeCommands(recipe: Recipe): { env: Record<string, string>; argv: string[][] } {
  const cli = [process.execPath, join(APP_ROOT, "node_modules", "node-llama-cpp", "dist", "cli", "cli.js"), "source"];
  const gpu = recipe.gpu === false ? "false" : recipe.gpu;
  return {
    env: recipeEnv(recipe),
    argv: [
      [...cli, "download", "--skipBuild", "--noUsageExample"],
      [...cli, "build", "--gpu", gpu, "--noUsageExample"],
    ],
  };
}

async function main() {
  const { values } = parseArgs({ options: { recipe: { type: "string" }, "dry-run": { type: "boolean" } }, strict: true });
  const recipe = values.recipe ? RECIPES[values.recipe] : undefined;
  if (!recipe) {
    console.error(`build-recipe: --recipe must be one of ${Object.keys(RECIPES).join(", ")}`);
    process.exit(2);
  }
  const { env, argv } = recipeCommands(recipe);
  for (const args of argv) {
    console.log(`${Object.entries(env).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ")} ${args.join(" ")}`);
    if (values["dry-run"]) continue;
    const proc = Bun.spawn(args, { env: { ...process.env, ...env }, stdout: "inherit", stderr: "inherit" });
    if ((await proc.exited) !== 0) process.exit(1);
  }
  if (values["dry-run"]) return;
  const marker = recipeMarker(APP_ROOT, recipe.id);
  mkdirSync(dirname(marker), { recursive: true });
  writeFileSync(marker, JSON.stringify({ recipe: recipe.id, cmakeOptions: recipe.cmakeOptions, builtAt: new Date().toISOString() }, null, 2));
  console.log(`build-recipe: ${recipe.id} built; recorded in ${marker}`);
}

if (import.meta.main) await main();
