// The OpenAI wire format: the base every OpenAI-compatible provider (OpenAI, OpenRouter, Groq,
// vLLM, Ollama, …) uses as is, and that presets, OpenAI, Azure and Gemini extend in a few lines
// (their own headers, paths, or an extra endpoint). Request bodies pass through untouched except
// `model` (mapped to the upstream name) and, for streams, `stream_options.include_usage` (so every
// stream is metered).
import type { Endpoint, Exchange, ExchangeInput, MappedAnswer, ProviderAdapter, ResolvedRoute, UnsupportedEndpoint } from '../types.ts';
import { OpenAIStreamMeter, usageFromResponse } from './usage.ts';
import { countTokensLocally, messagesViaChat, type ChatDialect } from '../translate/messages-via-chat.ts';

export type { Endpoint } from '../types.ts';
export { OpenAIStreamMeter, usageFromBody, usageFromResponse } from './usage.ts';

export interface PreparedBody {
  body: string | Buffer;
  /** the client did not ask for the usage chunk: the meter drops it again */
  stripUsage: boolean;
}

export function prepareBody(body: Record<string, unknown>, raw: Buffer, route: ResolvedRoute, stream: boolean): PreparedBody {
  const opts = (body.stream_options && typeof body.stream_options === 'object' ? body.stream_options : {}) as Record<string, unknown>;
  const stripUsage = stream && opts.include_usage !== true;
  // Nothing to change: the bytes the client sent go upstream as they are.
  if (!stripUsage && route.upstreamModel === body.model) return { body: raw, stripUsage };
  const out: Record<string, unknown> = { ...body, model: route.upstreamModel };
  if (stripUsage) out.stream_options = { ...opts, include_usage: true };
  return { body: JSON.stringify(out), stripUsage };
}

const PATHS: Partial<Record<Endpoint, string>> = { 'chat/completions': '/chat/completions', completions: '/completions', embeddings: '/embeddings', responses: '/responses' };

/** A whole OpenAI answer goes to an OpenAI client as it came: only its usage is read (on its bytes). */
const passJson = (buf: Buffer): MappedAnswer => ({ body: buf, usage: usageFromResponse(buf) });

export class OpenAICompatibleAdapter implements ProviderAdapter {
  readonly provider: string;
  /** One header object per cached route (undici only reads it): built once, not per request. */
  private readonly headersOf = new WeakMap<ResolvedRoute, Record<string, string>>();

  constructor(provider = 'openai-compatible') {
    this.provider = provider;
  }

  exchange(input: ExchangeInput): Exchange | UnsupportedEndpoint {
    switch (input.endpoint) {
      case 'chat/completions':
      case 'completions':
      case 'embeddings':
        return this.passthrough(input);
      case 'messages':
        return this.messages(input);
      case 'messages/count_tokens':
        return this.countTokens(input);
      case 'responses':
        return this.responses(input);
      case 'generateContent':
        return this.generateContent(input);
    }
  }

  /** The request headers of a deployment, cached on its (cached) route object. */
  headers(route: ResolvedRoute): Record<string, string> {
    let h = this.headersOf.get(route);
    if (!h) this.headersOf.set(route, (h = this.buildHeaders(route)));
    return h;
  }

  /** What `headers()` caches: override for another auth scheme (Azure's `api-key`). */
  protected buildHeaders(route: ResolvedRoute): Record<string, string> {
    return { 'content-type': 'application/json', authorization: `Bearer ${route.apiKey}`, accept: 'application/json, text/event-stream' };
  }

  /** POST path of an OpenAI API, relative to the credential's base URL (override: Azure's deployment URLs). */
  path(endpoint: Endpoint, _route: ResolvedRoute): string {
    return PATHS[endpoint] ?? '/' + endpoint;
  }

  /** The client speaks this provider's own format: the body goes through, usage is read on the way. */
  protected passthrough(input: ExchangeInput): Exchange {
    const { route, stream, body } = input;
    // prepareBody's logic, without its result object (this runs on every OpenAI request).
    const opts = body.stream_options;
    const stripUsage = stream && !(opts && typeof opts === 'object' && (opts as Record<string, unknown>).include_usage === true);
    const sent = !stripUsage && route.upstreamModel === body.model ? input.raw : prepareBody(body, input.raw, route, stream).body;
    return {
      path: this.path(input.endpoint, route), headers: this.headers(route), body: sent, stream,
      meter: new OpenAIStreamMeter(stripUsage, input.promptEstimate), mapJson: passJson,
    };
  }

  /** Anthropic Messages from a client (Claude Code) to a chat/completions upstream: translated. */
  protected messages(input: ExchangeInput): Exchange | UnsupportedEndpoint {
    return messagesViaChat(input, this.path('chat/completions', input.route), this.headers(input.route), this.chatDialect);
  }

  /** What this provider's chat API reads differently from the OpenAI-compatible default (OpenAI, Azure: max_completion_tokens). */
  protected readonly chatDialect: ChatDialect = {};

  /** Anthropic count_tokens: OpenAI-compatible servers have no such call; estimated locally. */
  protected countTokens(input: ExchangeInput): Exchange | UnsupportedEndpoint {
    return countTokensLocally(input);
  }

  /** The Responses API is OpenAI's own (and Azure's): a generic OpenAI-compatible server lacks it. */
  protected responses(_input: ExchangeInput): Exchange | UnsupportedEndpoint {
    return { unsupported: `The Responses API (/v1/responses) is not served by the ${this.provider} provider; use /v1/chat/completions, or route this model to OpenAI or Azure OpenAI.` };
  }

  protected generateContent(_input: ExchangeInput): Exchange | UnsupportedEndpoint {
    return { unsupported: `Gemini's generateContent is only served by the gemini provider, not by ${this.provider}; use /v1/chat/completions for this model.` };
  }

  errorMessage(_status: number, text: string): string | undefined {
    return openAIErrorMessage(text);
  }

  modelsRequest(route: ResolvedRoute): { path: string; headers: Record<string, string> } {
    return { path: '/models', headers: this.headers(route) };
  }
}

/** `error.message` of an OpenAI-shaped error body (also Anthropic's and Gemini's: they nest it the same way). */
export function openAIErrorMessage(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}
