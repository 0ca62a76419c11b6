// The OpenAI wire format: the base every OpenAI-compatible provider (OpenAI, OpenRouter, Groq,
// vLLM, Ollama, …) uses as is. Request bodies pass through untouched except `model` (mapped to the
// upstream name) and, for streams, `stream_options.include_usage` (so every stream is metered).
import type { ResolvedRoute, StreamMeter, Usage } from '../types.ts';

export type Endpoint = 'chat/completions' | 'completions' | 'embeddings';

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

export function upstreamHeaders(route: ResolvedRoute): Record<string, string> {
  return { 'content-type': 'application/json', authorization: `Bearer ${route.apiKey}`, accept: 'application/json, text/event-stream' };
}

/**
 * Usage from a non-streamed response without parsing all of it: the last `"usage": {…}` object is
 * cut out by brace matching (it holds only numbers and nested objects) and parsed alone; anything
 * unexpected falls back to parsing the whole body.
 */
const USAGE_KEY = Buffer.from('"usage"');

export function usageFromResponse(buf: Buffer): Usage | undefined {
  // OpenAI-shaped bodies end with the usage object: look in the tail first, then everywhere.
  const tail = buf.length > 640 ? buf.length - 640 : 0;
  const inTail = tail ? buf.subarray(tail).lastIndexOf(USAGE_KEY) : -1;
  const found = inTail !== -1 ? tail + inTail : buf.lastIndexOf(USAGE_KEY);
  const text = found === -1 ? '' : buf.toString('latin1', found);
  const at = found === -1 ? -1 : 0;
  if (at !== -1) {
    const open = text.indexOf('{', at);
    const colon = text.indexOf(':', at);
    if (open !== -1 && colon !== -1 && colon < open && /^\s*$/.test(text.slice(colon + 1, open))) {
      let depth = 0;
      for (let i = open; i < text.length; i++) {
        const ch = text.charCodeAt(i);
        if (ch === 123) depth++;
        else if (ch === 125 && --depth === 0) {
          try {
            return usageFromBody({ usage: JSON.parse(text.slice(open, i + 1)) });
          } catch {
            break;
          }
        } else if (ch === 34) break; // a string inside usage: not the shape we know
      }
    }
  }
  try {
    return usageFromBody(JSON.parse(buf.toString('utf8')));
  } catch {
    return undefined;
  }
}

/** Usage from a parsed response body; undefined when the upstream reported none. */
export function usageFromBody(json: unknown): Usage | undefined {
  const u = (json as { usage?: Record<string, unknown> } | null)?.usage;
  if (!u || typeof u.prompt_tokens !== 'number') return undefined;
  return { tokensIn: u.prompt_tokens, tokensOut: typeof u.completion_tokens === 'number' ? u.completion_tokens : 0 };
}

const USAGE = Buffer.from('"usage"');
const CONTENT = Buffer.from('"content"');
const TEXT = Buffer.from('"text"');
const SPACE = 32, COLON = 58, QUOTE = 34, BRACE = 123;

/** Index of the first non-space byte after `"key"` and its colon, or -1 when the key is absent. */
function valueAt(event: Buffer, key: Buffer): number {
  const at = event.indexOf(key);
  if (at === -1) return -1;
  let i = at + key.length;
  while (event[i] === SPACE) i++;
  if (event[i] !== COLON) return -1;
  i++;
  while (event[i] === SPACE) i++;
  return i;
}

/** True when the event carries a non-empty string under `key` (one streamed token, roughly). */
function hasText(event: Buffer, key: Buffer): boolean {
  const v = valueAt(event, key);
  return v !== -1 && event[v] === QUOTE && event[v + 1] !== QUOTE;
}

/**
 * Meters an OpenAI SSE stream on its bytes: only an event that carries a `"usage": {` object is
 * decoded and parsed (to read usage, and to drop it when the client did not ask for it).
 */
export class OpenAIStreamMeter implements StreamMeter {
  private usage: Usage | undefined;
  private contentEvents = 0;
  private readonly stripUsage: boolean;
  private readonly promptEstimate: number;

  constructor(stripUsage: boolean, promptEstimate: number) {
    this.stripUsage = stripUsage;
    this.promptEstimate = promptEstimate;
  }

  onEvent(event: Buffer): boolean {
    const u = valueAt(event, USAGE);
    if (u !== -1 && event[u] === BRACE) {
      const data = dataOf(event.toString('utf8'));
      if (data) {
        try {
          const parsed = JSON.parse(data) as { usage?: unknown; choices?: unknown[] };
          const usage = usageFromBody(parsed);
          if (usage) this.usage = usage;
          if (this.stripUsage && Array.isArray(parsed.choices) && parsed.choices.length === 0) return false;
        } catch {
          // not JSON: forward untouched
        }
      }
    } else if (hasText(event, CONTENT) || hasText(event, TEXT)) {
      this.contentEvents++;
    }
    return true;
  }

  result(): { usage: Usage; estimated: boolean } {
    if (this.usage) return { usage: this.usage, estimated: false };
    // Ended before the usage chunk (client abort, upstream cut): charge what was seen, about one
    // token per content chunk as OpenAI streams it, and the prompt estimate.
    return { usage: { tokensIn: this.promptEstimate, tokensOut: this.contentEvents }, estimated: true };
  }
}

function dataOf(event: string): string | undefined {
  for (const line of event.split('\n')) {
    if (line.startsWith('data:')) return line.slice(5).trim();
  }
  return undefined;
}
