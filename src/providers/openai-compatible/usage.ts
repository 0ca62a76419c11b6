// OpenAI-shaped usage, read on the bytes of a response or of one SSE event: what every
// OpenAI-compatible answer is metered with (and what translations to this format reuse).
import type { StreamMeter, Usage } from '../types.ts';

// Responses are read on their bytes: the keys searched for, and the JSON bytes that matter.
const USAGE = Buffer.from('"usage"');
const CONTENT = Buffer.from('"content"');
const TEXT = Buffer.from('"text"');
const DONE = Buffer.from('[DONE]');
const PROMPT_TOKENS = Buffer.from('prompt_tokens"');
const COMPLETION_TOKENS = Buffer.from('completion_tokens"');
const PROMPT_DETAILS = Buffer.from('prompt_tokens_details"');
const COMPLETION_DETAILS = Buffer.from('completion_tokens_details"');
const CACHED_TOKENS = Buffer.from('cached_tokens"');
const REASONING_TOKENS = Buffer.from('reasoning_tokens"');
const SPACE = 32, COLON = 58, QUOTE = 34, BRACE = 123, CLOSE_BRACE = 125, BACKSLASH = 92, COMMA = 44;

/**
 * Usage from a non-streamed response without parsing it: the last `"usage": {…}` object is read
 * on its bytes (OpenAI-shaped bodies end with it, so the tail is searched first) for its two
 * integer counts; anything unexpected falls back to parsing the whole body.
 */
export function usageFromResponse(buf: Buffer): Usage | undefined {
  const tail = buf.length > 640 ? buf.length - 640 : 0;
  let found = -1;
  for (let i = buf.indexOf(USAGE, tail); i !== -1; i = buf.indexOf(USAGE, i + 1)) found = i;
  if (found === -1 && tail > 0) found = buf.lastIndexOf(USAGE);
  if (found !== -1) {
    const usage = readUsageObject(buf, found + USAGE.length);
    if (usage !== null) return usage;
  }
  try {
    return usageFromBody(JSON.parse(buf.toString('utf8')));
  } catch {
    return undefined;
  }
}

/**
 * Reads `: { "prompt_tokens": n, "completion_tokens": m, "prompt_tokens_details": {"cached_tokens":
 * c}, "completion_tokens_details": {"reasoning_tokens": r}, … }` starting after the key: the two
 * counts at the object's top level, and the cached and reasoning counts in their details objects
 * (anything else nested is skipped). null when the bytes are not that shape (the caller parses the
 * body instead); undefined for a usage without counts.
 */
function readUsageObject(buf: Buffer, from: number): Usage | undefined | null {
  let i = afterColon(buf, from);
  if (i === -1 || buf[i] !== BRACE) return null;
  let depth = 0;
  let tokensIn: number | undefined;
  let tokensOut: number | undefined;
  let cached = 0;
  let reasoning = 0;
  // the details object the next `{` at depth 1 opens (1 prompt, 2 completion), and the one we are in
  let nextDetails = 0;
  let details = 0;
  for (; i < buf.length; i++) {
    const ch = buf[i];
    if (ch === BRACE) {
      if (++depth === 2) details = nextDetails;
      nextDetails = 0;
    } else if (ch === CLOSE_BRACE) {
      if (--depth === 0) return tokensIn === undefined ? undefined : usageOf(tokensIn, tokensOut ?? 0, cached, reasoning);
      if (depth === 1) details = 0;
    } else if (ch === QUOTE) {
      const start = i + 1;
      i = endOfString(buf, start);
      if (i === -1) return null;
      let which = 0;
      if (depth === 1) {
        which = keyIs(buf, start, i, PROMPT_TOKENS) ? 1 : keyIs(buf, start, i, COMPLETION_TOKENS) ? 2 : 0;
        if (which === 0) nextDetails = keyIs(buf, start, i, PROMPT_DETAILS) ? 1 : keyIs(buf, start, i, COMPLETION_DETAILS) ? 2 : 0;
      } else if (depth === 2 && details !== 0) {
        which = details === 1 ? (keyIs(buf, start, i, CACHED_TOKENS) ? 3 : 0) : keyIs(buf, start, i, REASONING_TOKENS) ? 4 : 0;
      }
      if (which === 0) continue;
      let j = afterColon(buf, i + 1);
      if (j === -1) return null;
      let n = 0;
      const digits = j;
      while (buf[j]! >= 48 && buf[j]! <= 57) n = n * 10 + (buf[j++]! - 48);
      if (j === digits || !(buf[j] === COMMA || buf[j] === CLOSE_BRACE || isSpace(buf[j]))) return null; // not a plain integer
      if (which === 1) tokensIn = n;
      else if (which === 2) tokensOut = n;
      else if (which === 3) cached = n;
      else reasoning = n;
      i = j - 1;
    }
  }
  return null;
}

/** Index of the closing quote of a JSON string whose content starts at `start`, or -1. */
function endOfString(buf: Buffer, start: number): number {
  for (let i = start; i < buf.length; i++) {
    if (buf[i] === BACKSLASH) i++;
    else if (buf[i] === QUOTE) return i;
  }
  return -1;
}

/** Whether the string between `start` and the quote at `end` is `key` (which ends with its quote). */
function keyIs(buf: Buffer, start: number, end: number, key: Buffer): boolean {
  return end - start + 1 === key.length && buf.compare(key, 0, key.length, start, end + 1) === 0;
}

const isSpace = (b: number | undefined) => b === SPACE || b === 10 || b === 13 || b === 9;

/** After a key: the index of the first non-space byte past `:` (spaces allowed around it), or -1. */
function afterColon(buf: Buffer, from: number): number {
  let i = from;
  while (isSpace(buf[i])) i++;
  if (buf[i] !== COLON) return -1;
  i++;
  while (isSpace(buf[i])) i++;
  return i;
}

/** The usage object; cached and reasoning counts only when reported (the common shape stays two fields). */
function usageOf(tokensIn: number, tokensOut: number, cached: number, reasoning: number): Usage {
  if (cached === 0 && reasoning === 0) return { tokensIn, tokensOut };
  return { tokensIn, tokensOut, cachedTokens: cached, reasoningTokens: reasoning };
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);

/** Usage from a parsed response body; undefined when the upstream reported none. */
export function usageFromBody(json: unknown): Usage | undefined {
  const u = (json as { usage?: Record<string, unknown> } | null)?.usage;
  if (!u || typeof u.prompt_tokens !== 'number') return undefined;
  const cached = count((u.prompt_tokens_details as Record<string, unknown> | null | undefined)?.cached_tokens);
  const reasoning = count((u.completion_tokens_details as Record<string, unknown> | null | undefined)?.reasoning_tokens);
  return usageOf(u.prompt_tokens, typeof u.completion_tokens === 'number' ? u.completion_tokens : 0, cached, reasoning);
}

/** Index of the first non-space byte after `"key"` and its colon, or -1 when the key is absent. */
function valueAt(event: Buffer, key: Buffer, fromEnd = false): number {
  const at = fromEnd ? event.lastIndexOf(key) : event.indexOf(key);
  return at === -1 ? -1 : afterColon(event, at + key.length);
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
  completed = false;
  private readonly stripUsage: boolean;
  private readonly promptEstimate: number;

  constructor(stripUsage: boolean, promptEstimate: number) {
    this.stripUsage = stripUsage;
    this.promptEstimate = promptEstimate;
  }

  onEvent(event: Buffer): boolean {
    // OpenAI puts `"usage"` last in every chunk (null until the final one): search from the end.
    const u = valueAt(event, USAGE, true);
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
    } else if (event.length <= 24 && event.includes(DONE)) {
      this.completed = true;
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
