import type { Llama, LlamaGrammar } from "node-llama-cpp";
import { HearthError } from "../errors.ts";
import type { SamplingParams } from "./types.ts";

/** Compiling a JSON-schema grammar costs more than a short generation; reuse the recent ones. */
export class GrammarCache {
  private readonly cache = new Map<string, Promise<LlamaGrammar>>();

  constructor(
    private readonly llama: Llama,
    private readonly capacity = 32,
  ) {}

  async forParams(params: SamplingParams): Promise<LlamaGrammar | undefined> {
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
