// Anthropic (https://docs.anthropic.com/en/api): /v1/messages and /v1/messages/count_tokens pass
// through natively (the client's bytes, its anthropic-version and anthropic-beta headers); OpenAI
// chat/completions is translated to and from Messages (../translate/chat-via-messages.ts).
import type { IncomingHttpHeaders } from 'node:http';
import type { Exchange, ExchangeInput, ProviderAdapter, ResolvedRoute, UnsupportedEndpoint, Usage } from '../types.ts';
import { chatViaMessages } from '../translate/chat-via-messages.ts';
import { isObject, parseObject } from '../translate/sse.ts';
import { anthropicAnswerUsage } from './answer-usage.ts';
import { AnthropicStreamMeter } from './stream-meter.ts';

/** The API version Tollgate speaks when the client names none (an OpenAI client never does). */
export const DEFAULT_VERSION = '2023-06-01';

const FREE: Usage = { tokensIn: 0, tokensOut: 0 };

// One header object per cached route (undici only reads it); a client's own version or beta
// headers make a copy for that request.
const headersOf = new WeakMap<ResolvedRoute, Record<string, string>>();

function baseHeaders(route: ResolvedRoute): Record<string, string> {
  let h = headersOf.get(route);
  if (!h) {
    h = { 'content-type': 'application/json', 'x-api-key': route.apiKey, 'anthropic-version': DEFAULT_VERSION, accept: 'application/json, text/event-stream' };
    headersOf.set(route, h);
  }
  return h;
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** The client's anthropic-version (else the default) and anthropic-beta, passed through. */
export function nativeHeaders(route: ResolvedRoute, client: IncomingHttpHeaders): Record<string, string> {
  const base = baseHeaders(route);
  const version = header(client, 'anthropic-version');
  const beta = header(client, 'anthropic-beta');
  if ((version === undefined || version === DEFAULT_VERSION) && beta === undefined) return base;
  const h = { ...base };
  if (version) h['anthropic-version'] = version;
  if (beta) h['anthropic-beta'] = beta;
  return h;
}

/** The client's bytes, unless the upstream knows the model by another name. */
function nativeBody(input: ExchangeInput): string | Buffer {
  if (input.body.model === input.route.upstreamModel) return input.raw;
  return JSON.stringify({ ...input.body, model: input.route.upstreamModel });
}

export class AnthropicAdapter implements ProviderAdapter {
  readonly provider = 'anthropic';

  exchange(input: ExchangeInput): Exchange | UnsupportedEndpoint {
    switch (input.endpoint) {
      case 'messages':
        return {
          path: '/messages',
          headers: nativeHeaders(input.route, input.headers),
          body: nativeBody(input),
          stream: input.stream,
          meter: new AnthropicStreamMeter(input.promptEstimate),
          mapJson: (buf) => ({ body: buf, usage: anthropicAnswerUsage(buf) }),
        };
      case 'messages/count_tokens':
        return {
          path: '/messages/count_tokens',
          headers: nativeHeaders(input.route, input.headers),
          body: nativeBody(input),
          stream: false,
          meter: new AnthropicStreamMeter(0),
          // Counting is free: metered (and logged) as 0 tokens.
          mapJson: (buf) => (parseObject(buf) ? { body: buf, usage: FREE } : undefined),
        };
      case 'chat/completions':
        return chatViaMessages(input, '/messages', baseHeaders(input.route));
      default:
        return { unsupported: `Anthropic serves /v1/messages, /v1/messages/count_tokens and /v1/chat/completions; /v1/${input.endpoint} needs a route to a provider that offers it.` };
    }
  }

  /** Anthropic's error body: { "type": "error", "error": { "type": …, "message": … } }. */
  errorMessage(_status: number, text: string): string | undefined {
    const body = parseObject(Buffer.from(text));
    const err = body && isObject(body.error) ? body.error : undefined;
    return err && typeof err.message === 'string' ? err.message : undefined;
  }

  modelsRequest(route: ResolvedRoute): { path: string; headers: Record<string, string> } {
    return { path: '/models', headers: baseHeaders(route) };
  }
}
