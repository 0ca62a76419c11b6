// The fake upstream's Google Gemini, in its real wire format (https://ai.google.dev/api):
//   POST /v1beta/models/{model}:generateContent            → a GenerateContentResponse
//   POST /v1beta/models/{model}:streamGenerateContent?alt=sse → SSE, each `data:` one of those
//        (without alt=sse: one JSON array of them, as Gemini does)
//   POST /v1beta/openai/chat/completions | /embeddings     → the OpenAI-compatible endpoint
//   GET  /v1beta/models                                    → the model list
// Native calls take the key in `x-goog-api-key` (or `?key=`), the OpenAI endpoint as Bearer.
// Native errors are {"error":{"code","message","status"}}; the OpenAI endpoint wraps the same in a
// list. A bad key is Gemini's 400 API_KEY_INVALID, not a 401.
// Tokens: the prompt is Σ over `contents` (and systemInstruction) of ceil(chars/4) + 3; the reply
// streams a few words per chunk; every chunk carries usageMetadata (the prompt count so far), the
// last one finishReason and the full counts. `*cached*` reports half the prompt as
// cachedContentTokenCount, `*reasoning*` adds half the output as thoughtsTokenCount.
import type http from 'node:http';
import type { FakeRoute } from './fake-upstream.ts';
import { embeddings, openaiGenerate } from './fake-upstream.ts';
import { completionTokens, generated, promptTokens, replyPieces, rid, send, stream } from './fake-kit.ts';
import type { Ctx, Frame } from './fake-kit.ts';

const NATIVE = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;
const OPENAI = /^\/v1beta\/openai\/(chat\/completions|embeddings)$/;

const STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED' };

function errorBody(status: number, message: string): { status: number; error: Record<string, unknown> } {
  if (status === 401) return { status: 400, error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }] } };
  return { status, error: { code: status, message, status: STATUS[status] ?? 'UNKNOWN' } };
}

const nativeError = (ctx: Ctx, status: number, message: string) => {
  const e = errorBody(status, message);
  send(ctx, e.status, { error: e.error });
};
const openaiEndpointError = (ctx: Ctx, status: number, message: string) => {
  const e = errorBody(status, message);
  send(ctx, e.status, [{ error: e.error }]);
};

/** Prompt tokens of a generateContent body (exported: tests compute the usage to expect). */
export function geminiPromptTokens(body: any): number {
  const contents: any[] = Array.isArray(body?.contents) ? body.contents : [];
  const system = body?.systemInstruction?.parts;
  return promptTokens(contents.map((c) => ({ content: c?.parts })), system === undefined ? undefined : system);
}

function usageMetadata(model: string, prompt: number, out: number | undefined) {
  const u: Record<string, unknown> = { promptTokenCount: prompt };
  if (model.includes('cached')) u.cachedContentTokenCount = Math.floor(prompt / 2);
  if (out === undefined) return { ...u, totalTokenCount: prompt };
  const thoughts = model.includes('reasoning') ? Math.floor(out / 2) : 0;
  if (thoughts > 0) u.thoughtsTokenCount = thoughts;
  return { ...u, candidatesTokenCount: out, totalTokenCount: prompt + out + thoughts, promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }] };
}

function generate(ctx: Ctx, model: string, streamed: boolean, sse: boolean): Promise<void> | void {
  const b = ctx.body;
  if (!Array.isArray(b?.contents) || b.contents.length === 0) return nativeError(ctx, 400, '* GenerateContentRequest.contents: contents is not specified');
  const prompt = geminiPromptTokens(b);
  const max = b.generationConfig?.maxOutputTokens;
  const n = completionTokens({ max_tokens: max }, generated(ctx));
  const finishReason = n < generated(ctx) ? 'MAX_TOKENS' : 'STOP';
  const pieces = replyPieces(n);
  const head = { modelVersion: model, responseId: rid('') };
  const candidate = (text: string, finish?: string) => ({ content: { parts: [{ text }], role: 'model' }, ...(finish ? { finishReason: finish } : {}), index: 0 });
  if (!streamed) return send(ctx, 200, { candidates: [candidate(pieces.join(''), finishReason)], usageMetadata: usageMetadata(model, prompt, n), ...head }, [prompt, n, true]);
  // a few words per chunk, as Gemini streams
  const chunks: string[] = [];
  for (let i = 0; i < pieces.length; i += 4) chunks.push(pieces.slice(i, i + 4).join(''));
  if (chunks.length === 0) chunks.push('');
  const frames: Frame[] = chunks.map((text, i) => {
    const last = i === chunks.length - 1;
    return { data: { candidates: [candidate(text, last ? finishReason : undefined)], usageMetadata: usageMetadata(model, prompt, last ? n : undefined), ...head }, ...(last ? { usage: [prompt, n, true] as Frame['usage'] } : {}) };
  });
  if (sse) return stream(ctx, frames);
  // without alt=sse Gemini streams one JSON array of the same objects
  return send(ctx, 200, frames.map((f) => f.data), [prompt, n, true]);
}

const nativeKey = (req: http.IncomingMessage, key: string) => req.headers['x-goog-api-key'] === key || new URL(req.url ?? '/', 'http://x').searchParams.get('key') === key;

/** GET /v1beta/models: Gemini's model list (names with their `models/` prefix). */
const GEMINI_MODELS = ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-embedding-001'];
function listModels(ctx: Ctx): void {
  send(ctx, 200, {
    models: GEMINI_MODELS.map((m) => ({
      name: `models/${m}`, version: '001', displayName: m.replace(/-/g, ' '), inputTokenLimit: 1048576, outputTokenLimit: 65536,
      supportedGenerationMethods: m.includes('embedding') ? ['embedContent'] : ['generateContent', 'countTokens'],
    })),
  });
}

export const geminiRoutes: FakeRoute[] = [
  {
    matches: (method, path) => method === 'GET' && path === '/v1beta/models',
    authorized: (req, key) => nativeKey(req, key),
    error: nativeError,
    handle: (ctx) => listModels(ctx),
  },
  {
    matches: (method, path) => method === 'POST' && NATIVE.test(path),
    authorized: nativeKey,
    error: nativeError,
    handle: (ctx, _method, path) => {
      const [, model, method] = NATIVE.exec(path)!;
      // the model is in the URL: the scripted behaviours (`error-NNN`, `*no-usage*` …) read it there
      ctx.model = decodeURIComponent(model!);
      const scripted = /^error-(\d{3})/.exec(ctx.model);
      if (scripted) return nativeError(ctx, Number(scripted[1]), `Simulated error for model ${ctx.model}`);
      const sse = new URL(ctx.req.url ?? '/', 'http://x').searchParams.get('alt') === 'sse';
      return generate(ctx, ctx.model, method === 'streamGenerateContent', sse);
    },
  },
  {
    matches: (method, path) => method === 'POST' && OPENAI.test(path),
    authorized: (req, key) => req.headers.authorization === `Bearer ${key}`,
    error: openaiEndpointError,
    handle: (ctx, _method, path) => {
      const b = ctx.body ?? {};
      if (path.endsWith('/embeddings')) return embeddings(ctx);
      if (!Array.isArray(b.messages)) return openaiEndpointError(ctx, 400, 'Invalid JSON payload received. Unknown name "messages"');
      return openaiGenerate(ctx, promptTokens(b.messages), false);
    },
  },
];
