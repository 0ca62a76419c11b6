// What the demo model answers, in OpenAI's wire format (the demo is an OpenAI-compatible
// deployment: Anthropic clients reach it through the same translation as any such provider).
// Usage is realistic and deterministic, so what the dashboard and GET /api/logs show can be checked:
//   prompt tokens     = Σ per message (or prompt / input) of ceil(chars / 4), + 3 per chat message
//   completion tokens = the pieces of the canned answer sent (one word each), at most max_tokens
import { createHash } from 'node:crypto';

export const DEMO_ANSWER =
  "This is Tollgate's demo model (tollgate-demo): a canned answer made locally, with no provider called and nothing charged. " +
  'Your request was authenticated, admitted, metered and logged like any other. Add a provider credential to get real answers.';

/** The answer as streamed: one word (with its leading space) per piece and per completion token. */
export const DEMO_PIECES = DEMO_ANSWER.split(' ').map((w, i) => (i === 0 ? w : ' ' + w));
const PIECES = DEMO_PIECES;

export const tokensOf = (text: string): number => Math.ceil(text.length / 4);

/** The text of a chat message's content: a string, or the text parts of a content array (Responses input_text too). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    const p = part as { text?: unknown } | null;
    if (p && typeof p.text === 'string') out += p.text;
  }
  return out;
}

export function chatPromptTokens(body: Record<string, unknown>): number {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  let n = 0;
  for (const m of messages) n += tokensOf(contentText((m as { content?: unknown } | null)?.content)) + 3;
  return n;
}

/** A legacy prompt or an embeddings input: a string, a list of strings, or token arrays. */
export function inputTokens(input: unknown): number {
  if (typeof input === 'string') return tokensOf(input);
  if (!Array.isArray(input)) return 0;
  if (input.every((x) => typeof x === 'number')) return input.length;
  let n = 0;
  for (const x of input) n += inputTokens(x);
  return n;
}

/** How many pieces of the answer fit in the request's max_tokens (all of them when absent). */
export function pieceCount(body: Record<string, unknown>): number {
  const max = body.max_completion_tokens ?? body.max_tokens;
  return typeof max === 'number' && Number.isInteger(max) && max >= 0 ? Math.min(max, PIECES.length) : PIECES.length;
}

const usageOf = (prompt: number, completion: number) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  prompt_tokens_details: { cached_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0 },
});

let seq = 0;
const id = (prefix: string) => `${prefix}demo${Date.now().toString(36)}${(seq++).toString(36)}`;
const now = () => Math.floor(Date.now() / 1000);

export type Legacy = boolean;

/** A whole chat.completion (legacy: text_completion) answer. */
export function completionJson(model: string, body: Record<string, unknown>, legacy: Legacy): string {
  const n = pieceCount(body);
  const text = PIECES.slice(0, n).join('');
  const finish = n < PIECES.length ? 'length' : 'stop';
  const prompt = legacy ? inputTokens(body.prompt) : chatPromptTokens(body);
  const choice = legacy
    ? { text, index: 0, logprobs: null, finish_reason: finish }
    : { index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: finish };
  return JSON.stringify({
    id: id(legacy ? 'cmpl-' : 'chatcmpl-'),
    object: legacy ? 'text_completion' : 'chat.completion',
    created: now(),
    model,
    choices: [choice],
    usage: usageOf(prompt, n),
    system_fingerprint: 'tollgate-demo',
  });
}

/**
 * The SSE events of a streamed answer, each complete with its blank line: (chat) a role chunk,
 * one chunk per piece, the finish chunk, the usage chunk when asked for (OpenAI sends it only with
 * stream_options.include_usage, which Tollgate always sets upstream), then `data: [DONE]`.
 */
export function completionEvents(model: string, body: Record<string, unknown>, legacy: Legacy): string[] {
  const n = pieceCount(body);
  const finish = n < PIECES.length ? 'length' : 'stop';
  const prompt = legacy ? inputTokens(body.prompt) : chatPromptTokens(body);
  const opts = body.stream_options as { include_usage?: unknown } | undefined;
  const includeUsage = opts?.include_usage === true;
  const head = { id: id(legacy ? 'cmpl-' : 'chatcmpl-'), object: legacy ? 'text_completion' : 'chat.completion.chunk', created: now(), model, system_fingerprint: 'tollgate-demo' };
  const tail = includeUsage ? { usage: null } : {};
  const event = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
  const choice = (piece: string | null, finish_reason: string | null, first = false) => legacy
    ? { text: piece ?? '', index: 0, logprobs: null, finish_reason }
    : { index: 0, delta: piece === null ? {} : first ? { role: 'assistant', content: piece } : { content: piece }, logprobs: null, finish_reason };
  const out: string[] = [];
  if (!legacy) out.push(event({ ...head, choices: [choice('', null, true)], ...tail }));
  for (let i = 0; i < n; i++) out.push(event({ ...head, choices: [choice(PIECES[i]!, null)], ...tail }));
  out.push(event({ ...head, choices: [choice(null, finish)], ...tail }));
  if (includeUsage) out.push(event({ ...head, choices: [], usage: usageOf(prompt, n) }));
  out.push('data: [DONE]\n\n');
  return out;
}

/** Embeddings: a deterministic unit-length vector per input (equal inputs embed equally). */
export function embeddingsJson(model: string, body: Record<string, unknown>): string | undefined {
  const raw = body.input;
  const inputs: unknown[] = typeof raw === 'string' || (Array.isArray(raw) && typeof raw[0] === 'number') ? [raw] : Array.isArray(raw) ? raw : [];
  if (inputs.length === 0) return undefined;
  const dims = typeof body.dimensions === 'number' && Number.isInteger(body.dimensions) && body.dimensions > 0 && body.dimensions <= 3072 ? body.dimensions : 256;
  const base64 = body.encoding_format === 'base64'; // what the openai SDK asks for by default
  const data = inputs.map((x, index) => {
    const v = vector(x, dims);
    return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v };
  });
  const tokens = inputTokens(inputs);
  return JSON.stringify({ object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

function vector(input: unknown, dims: number): number[] {
  const seed = createHash('sha256').update(JSON.stringify(input)).digest();
  const v = Array.from({ length: dims }, (_, i) => (seed[i % 32]! ^ (i * 31)) / 127.5 - 1);
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => Math.round((x / norm) * 1e6) / 1e6);
}

/** GET /models: the one model. */
export const modelsJson = (model: string): string =>
  JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'tollgate-demo' }] });

/** An OpenAI-shaped error body. */
export const errorJson = (message: string, param: string | null = null): string =>
  JSON.stringify({ error: { message, type: 'invalid_request_error', param, code: null } });
