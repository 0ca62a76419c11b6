// Plumbing shared by the fake's OpenAI and Anthropic endpoints: token accounting, request
// context, JSON and SSE writers. See fake-upstream.ts for the behaviour contract.
import type http from 'node:http';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep, setImmediate as tick } from 'node:timers/promises';
import type { FakeOptions } from './fake-upstream.ts';

// ---- deterministic token accounting (exported so tests can compute expectations) ----

export function textTokens(text: string): number { return Math.ceil(text.length / 4); }

/** Text of a message `content`: a string, or the concatenated `text` of its parts (images etc. count 0). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
}

/** Prompt tokens of a chat/messages request; Anthropic's `system` counts as one more message. */
export function promptTokens(messages: unknown, system?: unknown): number {
  const list: any[] = Array.isArray(messages) ? messages : [];
  const all = system === undefined ? list : [{ content: system }, ...list];
  return all.reduce((n: number, m) => n + textTokens(contentText(m?.content)) + 3, 0);
}

export function completionTokens(body: any, generated: number): number {
  const cap = [body?.max_tokens, body?.max_completion_tokens].find((v) => typeof v === 'number') ?? generated;
  return Math.max(0, Math.min(cap, generated));
}

/** Reply pieces as streamed: "tok0", " tok1", ... — joined they equal the non-streamed text. */
export function replyPieces(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i === 0 ? 'tok0' : ` tok${i}`));
}

// ---- request context and writers ----

export interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  body: any;
  model: string;
  options: FakeOptions;
  count(prompt: number, completion: number, newRequest: boolean): void;
  closed(): boolean;
}
export interface Frame { event?: string; data: unknown; usage?: [prompt: number, completion: number, newRequest: boolean] }

export const rid = (prefix: string) => prefix + randomBytes(12).toString('hex');
export const now = () => Math.floor(Date.now() / 1000);
export const generated = (ctx: Ctx) => ctx.options.completionTokens ?? 12;
export const wantsUsage = (ctx: Ctx) => !ctx.model.includes('no-usage');

/** Writes a JSON response unless the client already left; usage counts only if it was sent. */
export function send(ctx: Ctx, status: number, body: unknown, usage?: Frame['usage']): void {
  if (ctx.closed()) return;
  ctx.res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': rid('req_') });
  ctx.res.end(JSON.stringify(body));
  if (usage) ctx.count(...usage);
}

/** Streams SSE frames, pausing between them so a client abort is noticed and the rest is never sent. */
export async function stream(ctx: Ctx, frames: Frame[]): Promise<void> {
  if (ctx.closed()) return;
  ctx.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': rid('req_') });
  const delay = ctx.options.chunkDelayMs ?? 0;
  for (const f of frames) {
    if (ctx.closed()) return;
    const data = typeof f.data === 'string' ? f.data : JSON.stringify(f.data);
    ctx.res.write((f.event ? `event: ${f.event}\n` : '') + `data: ${data}\n\n`);
    if (f.usage) ctx.count(...f.usage);
    await (delay > 0 ? sleep(delay) : tick());
  }
  ctx.res.end();
}

/** Writes, then waits while the peer's buffers are full (or until it leaves): a fake that honours backpressure. */
export function writeFlowing(res: http.ServerResponse, data: string | Buffer): Promise<void> {
  if (res.destroyed || res.write(data)) return Promise.resolve();
  return new Promise((resolve) => {
    const go = () => {
      res.off('drain', go).off('close', go);
      resolve();
    };
    res.on('drain', go).on('close', go);
  });
}

function openaiErrorKind(status: number): [type: string, code: string | null] {
  if (status === 401) return ['invalid_request_error', 'invalid_api_key'];
  if (status === 404) return ['invalid_request_error', 'model_not_found'];
  if (status === 429) return ['requests', 'rate_limit_exceeded'];
  if (status >= 500) return ['server_error', null];
  return ['invalid_request_error', null];
}

export function openaiError(ctx: Ctx, status: number, message: string, param: string | null = null): void {
  const [type, code] = openaiErrorKind(status);
  send(ctx, status, { error: { message, type, param, code } });
}

