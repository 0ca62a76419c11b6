// A fake OpenAI- and Anthropic-compatible provider for tests. It is deterministic so a test can
// compute the exact usage (and therefore cost) the gateway must meter:
//   prompt tokens     = Σ over messages (and Anthropic `system`) of ceil(chars/4) + 3
//   completion tokens = min(max_tokens ?? max_completion_tokens ?? completionTokens, completionTokens)
// The reply is one word per completion token: "tok0 tok1 tok2 ...".
// Model names steer behaviour: `error-<status>` fails, `slow-*` adds 200 ms, `*no-usage*` omits usage,
// `*cached*` reports half the prompt as cached_tokens, `*reasoning*` half the completion as reasoning_tokens
// (chat completions carry both details objects, zeros otherwise, as OpenAI's do).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { anthropicMessages, anthropicError, anthropicRoutes } from './fake-anthropic.ts';
import { responsesRoutes } from './fake-openai-responses.ts';
import { azureRoutes } from './fake-azure.ts';
import { geminiRoutes } from './fake-gemini.ts';
import { openrouterRoutes } from './fake-openrouter.ts';
import { completionTokens, generated, now, openaiError, promptTokens, replyPieces, rid, send, stream, textTokens, wantsUsage } from './fake-kit.ts';
import type { Ctx, Frame } from './fake-kit.ts';

export { completionTokens, contentText, promptTokens, replyPieces, textTokens } from './fake-kit.ts';

export interface RecordedRequest { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: any }
export interface FakeOptions {
  latencyMs?: number;
  chunkDelayMs?: number;
  completionTokens?: number;
  failStatus?: number;
  requireAuth?: string;
}
export interface UsageTotals { requests: number; prompt_tokens: number; completion_tokens: number }
export interface FakeUpstream {
  baseUrl: string;
  requests: RecordedRequest[];
  usageTotals: UsageTotals;
  options: FakeOptions;
  reset(): void;
  close(): Promise<void>;
}

/** Models listed by GET /v1/models. Any model name is accepted by the other endpoints. */
export const FAKE_MODELS = ['gpt-4o', 'gpt-4o-mini', 'gpt-3.5-turbo-instruct', 'text-embedding-3-small'];

// ---- OpenAI endpoints ----

function usageOf(prompt: number, completion: number, model?: string) {
  const base = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (model === undefined) return base;
  return {
    ...base,
    prompt_tokens_details: { cached_tokens: model.includes('cached') ? Math.floor(prompt / 2) : 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: model.includes('reasoning') ? Math.floor(completion / 2) : 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** Shared by /v1/chat/completions and /v1/completions: only the object shapes differ. */
export async function openaiGenerate(ctx: Ctx, prompt: number, legacy: boolean): Promise<void> {
  const n = completionTokens(ctx.body, generated(ctx));
  const finish = n < generated(ctx) ? 'length' : 'stop';
  const usage = wantsUsage(ctx) ? usageOf(prompt, n, legacy ? undefined : String(ctx.model)) : undefined;
  const counted: Frame['usage'] = [prompt, n, true];
  const head = { id: rid(legacy ? 'cmpl-' : 'chatcmpl-'), created: now(), model: ctx.model };
  const choice = (piece: string | null, finish_reason: string | null, first = false) => legacy
    ? { text: piece ?? '', index: 0, logprobs: null, finish_reason }
    : { index: 0, delta: piece === null ? {} : first ? { role: 'assistant', content: piece, refusal: null } : { content: piece }, logprobs: null, finish_reason };

  if (ctx.body?.stream !== true) {
    const text = replyPieces(n).join('');
    const choices = [legacy
      ? { text, index: 0, logprobs: null, finish_reason: finish }
      : { index: 0, message: { role: 'assistant', content: text, refusal: null, annotations: [] }, logprobs: null, finish_reason: finish }];
    const object = legacy ? 'text_completion' : 'chat.completion';
    return send(ctx, 200, { ...head, object, choices, usage, system_fingerprint: 'fp_fake' }, usage && counted);
  }
  // Real OpenAI: with include_usage every chunk carries `usage: null` and a last chunk has choices [] + usage.
  const includeUsage = ctx.body?.stream_options?.include_usage === true && usage !== undefined;
  const object = legacy ? 'text_completion' : 'chat.completion.chunk';
  const chunk = (choices: unknown[], extra = {}) => ({ ...head, object, system_fingerprint: 'fp_fake', choices, ...(includeUsage ? { usage: null } : {}), ...extra });
  const frames: Frame[] = [];
  if (!legacy) frames.push({ data: chunk([choice('', null, true)]) }); // role chunk, content ""
  for (const piece of replyPieces(n)) frames.push({ data: chunk([choice(piece, null)]) });
  frames.push({ data: chunk([choice(null, finish)]) });
  if (includeUsage) frames.push({ data: chunk([], { usage }), usage: counted });
  frames.push({ data: '[DONE]' });
  return stream(ctx, frames);
}

/** Deterministic small unit-ish vector per input, so equal inputs embed equally. */
function vector(input: unknown, dims: number): number[] {
  const digest = createHash('sha256').update(JSON.stringify(input)).digest();
  return Array.from({ length: dims }, (_, i) => Math.round(((digest[i % 32] ?? 0) / 127.5 - 1) * 1e4) / 1e4);
}

export function embeddings(ctx: Ctx): void {
  const raw = ctx.body?.input;
  // `input` may be a string, string[], token array (number[]) or number[][].
  const inputs: unknown[] = typeof raw === 'string' || (Array.isArray(raw) && typeof raw[0] === 'number') ? [raw] : Array.isArray(raw) ? raw : [];
  if (inputs.length === 0) return openaiError(ctx, 400, "'input' is a required property", 'input');
  const tokens = inputs.reduce((n: number, x) => n + (Array.isArray(x) ? x.length : textTokens(String(x))), 0);
  const dims = typeof ctx.body.dimensions === 'number' ? ctx.body.dimensions : 8;
  const base64 = ctx.body.encoding_format === 'base64'; // the openai SDK asks for base64 by default
  const data = inputs.map((x, index) => {
    const v = vector(x, dims);
    const embedding = base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v;
    return { object: 'embedding', index, embedding };
  });
  const usage = wantsUsage(ctx) ? { prompt_tokens: tokens, total_tokens: tokens } : undefined;
  send(ctx, 200, { object: 'list', data, model: ctx.model, usage }, usage && [tokens, 0, true]);
}

function models(ctx: Ctx, id?: string): void {
  const model = (m: string) => ({ id: m, object: 'model', created: 1715367049, owned_by: 'system' });
  if (id === undefined) return send(ctx, 200, { object: 'list', data: FAKE_MODELS.map(model) });
  if (FAKE_MODELS.includes(id)) return send(ctx, 200, model(id));
  openaiError(ctx, 404, `The model '${id}' does not exist`, 'model');
}

// ---- dispatch ----

/**
 * More provider APIs on the same fake, one file each (fake-openai-responses.ts, fake-azure.ts,
 * fake-gemini.ts, fake-openrouter.ts): a route that matches a request answers it, with its own
 * credential header and error shape.
 */
export interface FakeRoute {
  matches(method: string, path: string): boolean;
  /** whether the request carries the credential `key` the way this provider expects (default: Bearer) */
  authorized?(req: http.IncomingMessage, key: string): boolean;
  error(ctx: Ctx, status: number, message: string): void;
  handle(ctx: Ctx, method: string, path: string): Promise<void> | void;
}
const EXTRA: FakeRoute[] = [...responsesRoutes, ...azureRoutes, ...geminiRoutes, ...openrouterRoutes, ...anthropicRoutes];

async function route(ctx: Ctx, method: string, path: string): Promise<void> {
  const b = ctx.body;
  const extra = EXTRA.find((r) => r.matches(method, path));
  if (extra) return extra.handle(ctx, method, path);
  if (method === 'GET' && path === '/v1/models') return models(ctx);
  if (method === 'GET' && path.startsWith('/v1/models/')) return models(ctx, decodeURIComponent(path.slice(11)));
  if (method !== 'POST') return openaiError(ctx, 404, `Invalid URL (${method} ${path})`);
  if (path === '/v1/messages') return anthropicMessages(ctx);
  if (!ctx.model) return openaiError(ctx, 400, "you must provide a model parameter", 'model');
  if (path === '/v1/chat/completions') {
    if (!Array.isArray(b.messages)) return openaiError(ctx, 400, "'messages' is a required property", 'messages');
    return openaiGenerate(ctx, promptTokens(b.messages), false);
  }
  if (path === '/v1/completions') {
    const prompts = Array.isArray(b.prompt) ? b.prompt : [b.prompt ?? ''];
    return openaiGenerate(ctx, promptTokens(prompts.map((p: unknown) => ({ content: String(p) }))), true);
  }
  if (path === '/v1/embeddings') return embeddings(ctx);
  return openaiError(ctx, 404, `Invalid URL (${method} ${path})`);
}

async function handle(fake: FakeUpstream, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  let body: any;
  let badJson = false;
  try { body = raw ? JSON.parse(raw) : undefined; } catch { body = raw; badJson = true; }
  const method = req.method ?? 'GET';
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  fake.requests.push({ method, path, headers: { ...req.headers }, body });

  let gone = false;
  res.on('close', () => { gone = true; });
  const o = fake.options;
  const model = typeof body?.model === 'string' ? body.model : '';
  const ctx: Ctx = {
    req, res, body, model, options: o,
    closed: () => gone || res.destroyed,
    count(prompt, completion, newRequest) {
      if (newRequest) fake.usageTotals.requests++;
      fake.usageTotals.prompt_tokens += prompt;
      fake.usageTotals.completion_tokens += completion;
    },
  };
  const anthropic = path === '/v1/messages';
  const extra = EXTRA.find((r) => r.matches(method, path));
  const fail = (status: number, message: string) => extra ? extra.error(ctx, status, message) : anthropic ? anthropicError(ctx, status, message) : openaiError(ctx, status, message);

  const latency = (o.latencyMs ?? 0) + (model.startsWith('slow-') ? 200 : 0);
  if (latency > 0) await sleep(latency);
  // An outage answers before auth is even looked at; then auth; then the scripted model errors.
  if (o.failStatus) return fail(o.failStatus, `Simulated upstream failure (${o.failStatus})`);
  if (o.requireAuth !== undefined) {
    // @anthropic-ai/sdk >= 1.x sends its apiKey as `Authorization: Bearer`, older clients as x-api-key.
    const bearer = req.headers.authorization === `Bearer ${o.requireAuth}`;
    const ok = extra?.authorized ? extra.authorized(req, o.requireAuth) : bearer || (anthropic && req.headers['x-api-key'] === o.requireAuth);
    if (!ok) return fail(401, anthropic ? 'invalid x-api-key' : 'Incorrect API key provided.');
  }
  const scripted = /^error-(\d{3})/.exec(model);
  if (scripted) return fail(Number(scripted[1]), `Simulated error for model ${model}`);
  if (badJson) return fail(400, 'We could not parse the JSON body of your request.');
  return route(ctx, method, path);
}

export async function startFakeUpstream(options: FakeOptions = {}): Promise<FakeUpstream> {
  const server = http.createServer();
  const fake: FakeUpstream = {
    baseUrl: '',
    requests: [],
    usageTotals: { requests: 0, prompt_tokens: 0, completion_tokens: 0 },
    options: { ...options },
    reset() {
      fake.requests.length = 0; // in place: tests may hold a reference to the array
      Object.assign(fake.usageTotals, { requests: 0, prompt_tokens: 0, completion_tokens: 0 });
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections(); // ends in-flight streams too
      server.close(() => resolve());
    }),
  };
  server.on('request', (req, res) => {
    handle(fake, req, res).catch((err) => { res.destroy(err instanceof Error ? err : new Error(String(err))); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // A fake that a test forgot to close must not keep its file alive (node --test would wait forever).
  // Node 24's runner can even run a root after() before an async before() has finished.
  server.unref();
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
