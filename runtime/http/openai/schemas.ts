import { Type, type Static } from "@sinclair/typebox";

/**
 * Request bodies of the OpenAI-compatible API. Fields we accept but do not act on are listed so
 * clients that send them validate; other unknown fields are allowed, as OpenAI's own API does.
 * `null` at the top level means "not given" (some clients send it) and is removed before validation.
 */
const TextPart = Type.Object({ type: Type.Literal("text"), text: Type.String() });

export const ChatMessageSchema = Type.Object({
  role: Type.Union([Type.Literal("system"), Type.Literal("developer"), Type.Literal("user"), Type.Literal("assistant")]),
  content: Type.Union([Type.String(), Type.Array(TextPart, { minItems: 1 })]),
  name: Type.Optional(Type.String()),
});

const Stop = Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { maxItems: 4 })]);

const JsonSchemaFormat = Type.Object({
  type: Type.Literal("json_schema"),
  json_schema: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.Optional(Type.String()),
    schema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  }),
});

const ResponseFormat = Type.Union([
  Type.Object({ type: Type.Literal("text") }),
  Type.Object({ type: Type.Literal("json_object") }),
  JsonSchemaFormat,
]);

const Sampling = {
  model: Type.String({ minLength: 1 }),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  seed: Type.Optional(Type.Integer()),
  stop: Type.Optional(Stop),
  n: Type.Optional(Type.Literal(1, { description: "Only one choice per request is generated" })),
  stream: Type.Optional(Type.Boolean()),
  stream_options: Type.Optional(Type.Object({ include_usage: Type.Optional(Type.Boolean()) })),
  user: Type.Optional(Type.String()),
};

export const ChatCompletionRequestSchema = Type.Object({
  ...Sampling,
  messages: Type.Array(ChatMessageSchema, { minItems: 1 }),
  max_completion_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
  response_format: Type.Optional(ResponseFormat),
});
export type ChatCompletionRequest = Static<typeof ChatCompletionRequestSchema>;

export const CompletionRequestSchema = Type.Object({
  ...Sampling,
  prompt: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1, maxItems: 1 })], {
    description: "One prompt: a string or an array holding one string",
  }),
});
export type CompletionRequest = Static<typeof CompletionRequestSchema>;

export const EmbeddingRequestSchema = Type.Object({
  model: Type.String({ minLength: 1 }),
  input: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 256 })]),
  encoding_format: Type.Optional(Type.Union([Type.Literal("float"), Type.Literal("base64")])),
  dimensions: Type.Optional(Type.Integer({ minimum: 1 })),
  user: Type.Optional(Type.String()),
});
export type EmbeddingRequest = Static<typeof EmbeddingRequestSchema>;
