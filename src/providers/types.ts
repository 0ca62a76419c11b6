// What the hot path knows about a provider. Shared types never import from a provider folder;
// provider folders (openai-compatible/, anthropic/, azure/, gemini/, demo/ …) import from here.
//
// The words:
// - an Endpoint is a client API Tollgate serves under /v1 (the client's wire format);
// - a ProviderAdapter knows one provider's wire format, and builds one Exchange per attempt: the
//   upstream request, plus how its answer (JSON, SSE stream, error) becomes the client's format,
//   metering usage on the way;
// - a Deployment (ResolvedRoute) is one credential + upstream model + price serving a public model
//   name; a ModelRoute is the public name with its deployments in fallback order.
import type { IncomingHttpHeaders } from 'node:http';
import type { ModelPrice } from '../config.ts';

/** A client API under /v1, as logged in request_logs.endpoint. */
export type Endpoint =
  | 'chat/completions' // OpenAI Chat Completions
  | 'completions' // OpenAI legacy completions
  | 'embeddings' // OpenAI embeddings
  | 'responses' // OpenAI Responses API (Codex CLI)
  | 'messages' // Anthropic Messages (Claude Code)
  | 'messages/count_tokens' // Anthropic token counting
  | 'generateContent'; // Gemini native (…:generateContent and …:streamGenerateContent)

/** The wire format a client speaks (its request, answer, stream and error shapes). */
export type ClientFormat = 'openai' | 'anthropic' | 'gemini';

export const CLIENT_FORMAT: Record<Endpoint, ClientFormat> = {
  'chat/completions': 'openai',
  completions: 'openai',
  embeddings: 'openai',
  responses: 'openai',
  messages: 'anthropic',
  'messages/count_tokens': 'anthropic',
  generateContent: 'gemini',
};

export interface Usage {
  tokensIn: number;
  tokensOut: number;
  /** of tokensIn, served from the provider's prompt cache (when reported) */
  cachedTokens?: number;
  /** of tokensOut, spent reasoning (when reported) */
  reasoningTokens?: number;
}

/** A model resolved to the credential and upstream that serve it: one deployment of a route. */
export interface ResolvedRoute {
  /** the model_routes row (0 for routes made up on the fly: the demo model) */
  deploymentId: number;
  credentialId: number;
  /** a provider id of the registry (providers/registry.ts): 'openai', 'anthropic', 'azure', 'groq' … */
  provider: string;
  /** e.g. https://api.openai.com/v1 (no trailing slash) */
  baseUrl: string;
  /** decrypted provider secret: lives only in memory */
  apiKey: string;
  /** provider settings of the credential (e.g. { api_version } for Azure); {} when none */
  options: Readonly<Record<string, string>>;
  upstreamModel: string;
  price: ModelPrice | undefined;
  /** share among deployments of the same priority (weighted pick), and the priority itself */
  weight: number;
  priority: number;
}

/** A public model name and the deployments that serve it, highest priority first. */
export interface ModelRoute {
  model: string;
  deployments: ResolvedRoute[];
  /** the whole upstream response, at most (undefined: the configured default) */
  timeoutMs: number | undefined;
  /** tries again on the same deployment before falling back (undefined: the default) */
  retries: number | undefined;
  /** the price a reservation is bounded with: the dearest deployment's (undefined: none priced) */
  boundPrice: ModelPrice | undefined;
}

/** Reads usage out of a streamed response, one SSE event at a time, and rewrites it if needed. */
export interface StreamMeter {
  /**
   * Inspects one complete SSE event (its bytes, without the blank line that ends it).
   * true: relay it as is; false: drop it; a string: send that instead (zero or more complete SSE
   * events in the client's format, each ending with a blank line — a translation).
   */
  onEvent(event: Buffer): boolean | string;
  /**
   * The stream's own end was seen (OpenAI `data: [DONE]`, Anthropic `message_stop`, Gemini: the
   * event with a finishReason and usage): it was not cut short. The event that completes the
   * stream is held back by forward() and written only after the request is settled and logged.
   */
  readonly completed: boolean;
  /** Usage as reported, or estimated from what was seen when the stream ended early. */
  result(): { usage: Usage; estimated: boolean };
}

/** What a whole (non-streamed) 2xx upstream answer becomes for the client. */
export interface MappedAnswer {
  body: string | Buffer;
  usage: Usage | undefined;
}

/** Everything an adapter may look at to build one attempt. */
export interface ExchangeInput {
  endpoint: Endpoint;
  /** the parsed client body (never mutated: copy to change) and its bytes as received */
  body: Record<string, unknown>;
  raw: Buffer;
  /** the client's request headers (anthropic-version / anthropic-beta are passed through) */
  headers: IncomingHttpHeaders;
  /** the deployment this attempt goes to */
  route: ResolvedRoute;
  stream: boolean;
  /** the model as the client named it (Gemini native: from the URL path) */
  model: string;
  /** a coarse prompt token count from the body size, for usage the upstream did not report */
  promptEstimate: number;
}

/** One attempt's upstream request and how its answer maps back. Built per request. */
export interface Exchange {
  /** POST target relative to the credential's base URL, with any query (e.g. `/chat/completions`) */
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
  /** whether the upstream will answer with SSE (what the client asked for, in the client's terms) */
  stream: boolean;
  meter: StreamMeter;
  /** maps a whole 2xx answer; undefined when it is not the shape expected (→ 502 upstream_malformed) */
  mapJson(buf: Buffer): MappedAnswer | undefined;
  /**
   * Answered without calling the upstream (count_tokens estimated locally for a provider without
   * it, the demo model): the pipeline meters `usage` and sends `body` with `status`.
   */
  local?: { status: number; body: string; usage: Usage };
}

export interface ProviderAdapter {
  /** the registry id */
  readonly provider: string;
  /**
   * Builds one attempt, or returns an UnsupportedEndpoint when this provider cannot serve the
   * client's API (e.g. the Responses API on Anthropic): the client gets a 400 saying so.
   */
  exchange(input: ExchangeInput): Exchange | UnsupportedEndpoint;
  /** The human message in this provider's error body (for mapping errors to another format). */
  errorMessage(status: number, text: string): string | undefined;
  /**
   * An upstream error answer as the provider's usual shape and true status, for a provider whose
   * own is odd (Gemini's OpenAI endpoint wraps its error in a list and refuses a bad key with a
   * 400). Called on error answers only, before they are relayed or mapped; absent: as they came.
   */
  normalizeError?(status: number, text: string): { status: number; text: string };
  /** GET request for the provider's model list (catch-all credentials' /v1/models), if it has one. */
  modelsRequest?(route: ResolvedRoute): { path: string; headers: Record<string, string> };
}

export interface UnsupportedEndpoint {
  unsupported: string;
}

export const isUnsupported = (x: Exchange | UnsupportedEndpoint): x is UnsupportedEndpoint => 'unsupported' in x;

/** One provider of the registry: its adapter and what creating a credential for it needs. */
export interface ProviderSpec {
  id: string;
  /** shown in the dashboard and docs */
  label: string;
  adapter: ProviderAdapter;
  /** a base URL used when a credential gives none (undefined: base_url is required) */
  defaultBaseUrl?: string;
  /** option names a credential may set (e.g. ['api_version']), and the required ones */
  options?: { name: string; required: boolean; description: string; /** a value must match it (checked when a credential is saved) */ pattern?: RegExp }[];
  /** client APIs served natively (passthrough) vs. translated, for docs and GET /api/providers/kinds */
  native: Endpoint[];
  translated: Endpoint[];
}
