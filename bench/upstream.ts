// A lean fake upstream for measuring: no recording, no per-request allocation beyond what
// node:http needs. Three APIs, each answering the same fixed completion (bench/lib/canned.ts):
//   POST …/chat/completions  OpenAI chat: a chat.completion with usage, or with "stream": true a
//                            ~20-event SSE stream (plus the usage chunk when
//                            stream_options.include_usage is set)
//   POST …/messages          Anthropic Messages: a message, or its event sequence (usage in
//                            message_start and message_delta)
//   POST …/responses         OpenAI Responses: a response, or its event sequence (usage in
//                            response.completed)
// A request whose `user` field (Anthropic: `metadata.user_id`) is "delay-<ms>" gets its SSE
// events that many ms apart (used for the time-to-first-byte comparison).
//
//   node bench/upstream.ts [port]   → prints {"port": N} when listening
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { COMPLETION_TOKENS, CREATED, PROMPT_TOKENS, WORDS, pieces, sse } from './lib/canned.ts';
import { messageEvents, messageJson } from './lib/canned-anthropic.ts';
import { responseEvents, responseJson } from './lib/canned-responses.ts';

const usage = { prompt_tokens: PROMPT_TOKENS, completion_tokens: COMPLETION_TOKENS, total_tokens: PROMPT_TOKENS + COMPLETION_TOKENS };

const completion = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: CREATED,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: WORDS, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
    usage,
    system_fingerprint: 'fp_bench',
  }),
);

function sseEvents(includeUsage: boolean): string[] {
  const head = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: CREATED, model: 'gpt-4o-mini', system_fingerprint: 'fp_bench' };
  const extra = includeUsage ? { usage: null } : {};
  const out = [sse({ ...head, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }], ...extra })];
  for (const piece of pieces()) out.push(sse({ ...head, choices: [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }], ...extra }));
  out.push(sse({ ...head, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], ...extra }));
  if (includeUsage) out.push(sse({ ...head, choices: [], usage }));
  out.push('data: [DONE]\n\n');
  return out;
}

/** One API's canned answer: the JSON body, and the SSE events with and without the usage chunk. */
interface Canned {
  json: Buffer;
  events: [plain: string[], withUsage: string[]];
  whole: [plain: Buffer, withUsage: Buffer];
}
const canned = (json: Buffer, plain: string[], withUsage: string[]): Canned => ({ json, events: [plain, withUsage], whole: [Buffer.from(plain.join('')), Buffer.from(withUsage.join(''))] });
const CHAT = canned(completion, sseEvents(false), sseEvents(true));
// Anthropic and Responses streams always carry their usage.
const MESSAGES = canned(messageJson, messageEvents, messageEvents);
const RESPONSES = canned(responseJson, responseEvents, responseEvents);

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

function answer(res: http.ServerResponse, raw: string, api: Canned): void {
  let body: { stream?: unknown; stream_options?: { include_usage?: unknown }; user?: unknown; metadata?: { user_id?: unknown } } | undefined;
  try {
    body = JSON.parse(raw);
  } catch {
    body = undefined;
  }
  if (!body || typeof body !== 'object') {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"bad json","type":"invalid_request_error"}}');
    return;
  }
  if (body.stream !== true) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': api.json.length });
    res.end(api.json);
    return;
  }
  const withUsage = body.stream_options?.include_usage === true ? 1 : 0;
  const user = body.user ?? body.metadata?.user_id;
  const delay = typeof user === 'string' && user.startsWith('delay-') ? Number(user.slice(6)) : 0;
  res.writeHead(200, SSE_HEADERS);
  if (!delay) {
    res.end(api.whole[withUsage]);
    return;
  }
  const events = api.events[withUsage];
  let i = 0;
  const next = () => {
    if (res.destroyed) return;
    res.write(events[i++]!);
    if (i < events.length) setTimeout(next, delay);
    else res.end();
  };
  next();
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.end('ok');
    return;
  }
  const url = req.url ?? '';
  const api = req.method !== 'POST' ? undefined : url.endsWith('/chat/completions') ? CHAT : url.endsWith('/messages') ? MESSAGES : url.endsWith('/responses') ? RESPONSES : undefined;
  if (!api) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => answer(res, Buffer.concat(chunks).toString('utf8'), api));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
