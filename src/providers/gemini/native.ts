// Gemini's native API passed through: POST {base}/models/{model}:generateContent, or
// :streamGenerateContent?alt=sse (SSE whose every `data:` is a GenerateContentResponse). Usage is
// its `usageMetadata`:
//   { promptTokenCount, cachedContentTokenCount, candidatesTokenCount, thoughtsTokenCount,
//     toolUsePromptTokenCount, totalTokenCount }
// promptTokenCount includes the cached tokens; thoughts are billed as output, next to candidates.
// https://ai.google.dev/api/generate-content#UsageMetadata
import type { ExchangeInput, MappedAnswer, StreamMeter, Usage } from '../types.ts';
import { count, objectUnder } from '../openai/json-bytes.ts';

const USAGE_METADATA = Buffer.from('"usageMetadata"');
const FINISH_REASON = Buffer.from('"finishReason"');
const TEXT = Buffer.from('"text"');
const QUOTE = 34, BACKSLASH = 92;

/** Usage from a usageMetadata object; undefined when it is not one. */
export function geminiUsage(u: Record<string, unknown>): Usage | undefined {
  if (typeof u.promptTokenCount !== 'number' && typeof u.totalTokenCount !== 'number') return undefined;
  const thoughts = count(u.thoughtsTokenCount);
  const cached = count(u.cachedContentTokenCount);
  // tool results fed back into the prompt are billed as input
  const usage: Usage = { tokensIn: count(u.promptTokenCount) + count(u.toolUsePromptTokenCount), tokensOut: count(u.candidatesTokenCount) + thoughts };
  if (cached > 0 || thoughts > 0) Object.assign(usage, { cachedTokens: cached, reasoningTokens: thoughts });
  return usage;
}

/** `models/gemini-2.0-flash` and `gemini-2.0-flash` name the same model in a URL. */
const modelPath = (model: string) => encodeURIComponent(model.startsWith('models/') ? model.slice(7) : model);

export function nativePath(upstreamModel: string, stream: boolean): string {
  return `/models/${modelPath(upstreamModel)}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;
}

/** The native body names no model (it is in the URL): the client's bytes go up as they are. */
export const nativeBody = (input: ExchangeInput): Buffer => input.raw;

/** A whole generateContent answer: relayed as is; usage from its usageMetadata. */
export function mapGenerateContent(buf: Buffer): MappedAnswer | undefined {
  const usage = objectUnder(buf, USAGE_METADATA, geminiUsage);
  if (usage) return { body: buf, usage };
  try {
    const json = JSON.parse(buf.toString('utf8')) as { candidates?: unknown; promptFeedback?: unknown } | null;
    return json && typeof json === 'object' && (Array.isArray(json.candidates) || json.promptFeedback) ? { body: buf, usage: undefined } : undefined;
  } catch {
    return undefined;
  }
}

/** Bytes of generated text in one event: the `"text"` strings' lengths (escapes counted as is). */
function textBytes(event: Buffer): number {
  let n = 0;
  for (let at = event.indexOf(TEXT); at !== -1; at = event.indexOf(TEXT, at + TEXT.length)) {
    let i = at + TEXT.length;
    while (event[i] === 32 || event[i] === 58) i++; // spaces and the colon
    if (event[i] !== QUOTE) continue;
    const start = ++i;
    while (i < event.length && event[i] !== QUOTE) i += event[i] === BACKSLASH ? 2 : 1;
    n += i - start;
    at = i;
  }
  return n;
}

/**
 * Meters a streamGenerateContent?alt=sse stream. Gemini repeats usageMetadata on its chunks (the
 * counts so far); the first and the final one are read. The rule for "complete": an event whose
 * candidate has a `finishReason` (Gemini's last chunk carries it with the final usageMetadata);
 * that event is the one held back until the request is logged. A stream that ends without it was
 * cut short: the first usage seen (the prompt count), with output at least the text seen (about 4
 * bytes a token), flagged estimated.
 */
export class GeminiStreamMeter implements StreamMeter {
  completed = false;
  private usage: Usage | undefined;
  private text = 0;
  private readonly promptEstimate: number;

  constructor(promptEstimate: number) {
    this.promptEstimate = promptEstimate;
  }

  onEvent(event: Buffer): boolean {
    if (this.completed) return true;
    const finished = event.includes(FINISH_REASON);
    // usageMetadata is parsed twice a stream, not per chunk: the first (the prompt count, for an
    // estimate should the stream be cut) and the one with the finishReason (the final counts).
    if ((finished || this.usage === undefined) && event.includes(USAGE_METADATA)) this.usage = objectUnder(event, USAGE_METADATA, geminiUsage) ?? this.usage;
    this.text += textBytes(event);
    if (finished) this.completed = true;
    return true;
  }

  result(): { usage: Usage; estimated: boolean } {
    if (this.completed && this.usage) return { usage: this.usage, estimated: false };
    const seen = Math.ceil(this.text / 4);
    const usage = this.usage ?? { tokensIn: this.promptEstimate, tokensOut: 0 };
    return { usage: { ...usage, tokensOut: Math.max(usage.tokensOut, seen) }, estimated: true };
  }
}

/** The message of a Gemini error: `{error:{code,message,status}}`, or a list of those (its OpenAI endpoint). */
export function geminiErrorMessage(text: string): string | undefined {
  try {
    let json = JSON.parse(text) as unknown;
    if (Array.isArray(json)) json = json[0];
    const message = (json as { error?: { message?: unknown } } | null)?.error?.message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Gemini's errors as their usual `{error:{…}}` object with their true status: its OpenAI endpoint
 * answers a list of one error (OpenAI clients expect the object), and a refused API key comes as
 * 400 INVALID_ARGUMENT with reason API_KEY_INVALID: that is the gateway's credential being
 * refused, a 401, never the client's fault.
 */
export function normalizeGeminiError(status: number, text: string): { status: number; text: string } {
  let out = text;
  if (text.trimStart().startsWith('[')) {
    try {
      const list = JSON.parse(text) as unknown[];
      if (Array.isArray(list) && list.length > 0 && typeof list[0] === 'object') out = JSON.stringify(list[0]);
    } catch {
      // not JSON: as it came
    }
  }
  return { status: status === 400 && out.includes('"API_KEY_INVALID"') ? 401 : status, text: out };
}
