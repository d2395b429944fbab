import type { Llama, LlamaGrammar } from "node-llama-cpp";
import { HearthError } from "../errors.ts";
import type { SamplingParams } from "./types.ts";

const JSON_TYPES = new Set(["string", "number", "integer", "boolean", "null", "object", "array"]);
/** Keywords whose values are data, not schemas. */
const VALUE_KEYWORDS = new Set(["enum", "const", "default", "examples"]);
/** Keywords whose keys are names (a property may well be called "type"). */
const NAME_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions"]);

/**
 * node-llama-cpp silently treats an unknown `type` as "anything", which would hand the client
 * output that ignores its schema; refuse such schemas and say where the bad keyword is.
 */
function checkTypes(node: unknown, path: string): void {
  if (Array.isArray(node)) return node.forEach((item, i) => checkTypes(item, `${path}[${i}]`));
  if (typeof node !== "object" || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    const here = `${path}.${key}`;
    if (key === "type") {
      for (const t of Array.isArray(value) ? value : [value]) {
        if (typeof t !== "string" || !JSON_TYPES.has(t)) {
          throw new HearthError("invalid_request", `${here}: ${JSON.stringify(t)} is not a JSON Schema type`, { field: "response_format" });
        }
      }
    } else if (NAME_MAPS.has(key) && typeof value === "object" && value !== null) {
      for (const [name, sub] of Object.entries(value)) checkTypes(sub, `${here}.${name}`);
    } else if (!VALUE_KEYWORDS.has(key)) {
      checkTypes(value, here);
    }
  }
}

/** Compiling a JSON-schema grammar costs more than a short generation; reuse the recent ones. */
export class GrammarCache {
  private readonly cache = new Map<string, Promise<LlamaGrammar>>();

  constructor(
    private readonly llama: Llama,
    private readonly capacity = 32,
  ) {}

  async forParams(params: SamplingParams): Promise<LlamaGrammar | undefined> {
    if (params.jsonSchema) checkTypes(params.jsonSchema, "response_format.json_schema.schema");
    if (params.jsonSchema) return this.get(JSON.stringify(params.jsonSchema), () => this.llama.createGrammarForJsonSchema(params.jsonSchema as never));
    if (params.jsonObject) return this.get("json", () => this.llama.getGrammarFor("json"));
    return undefined;
  }

  private async get(key: string, make: () => Promise<LlamaGrammar>): Promise<LlamaGrammar> {
    let grammar = this.cache.get(key);
    if (!grammar) {
      grammar = make().catch((err: unknown) => {
        this.cache.delete(key);
        throw new HearthError("invalid_request", `response_format.json_schema.schema: not supported (${(err as Error).message})`, {
          field: "response_format",
          cause: err,
        });
      });
      this.cache.set(key, grammar);
      if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
    }
    return grammar;
  }
}
