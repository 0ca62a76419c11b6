// A lean fake OpenAI upstream for measuring: no recording, no per-request allocation beyond what
// node:http needs. POST /v1/chat/completions answers a fixed chat.completion with usage, or, with
// "stream": true, a fixed ~20-event SSE stream (plus the usage chunk when
// stream_options.include_usage is set). A request whose `user` field is "delay-<ms>" gets its SSE
// events that many ms apart (used for the time-to-first-byte comparison).
//
//   node bench/upstream.ts [port]   → prints {"port": N} when listening
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const CONTENT_EVENTS = 18;
const PROMPT_TOKENS = 96;
const COMPLETION_TOKENS = 100;
const created = 1_750_000_000;
const usage = { prompt_tokens: PROMPT_TOKENS, completion_tokens: COMPLETION_TOKENS, total_tokens: PROMPT_TOKENS + COMPLETION_TOKENS };
const words = Array.from({ length: COMPLETION_TOKENS }, (_, i) => `word${i}`).join(' ');

const completion = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: words, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
    usage,
    system_fingerprint: 'fp_bench',
  }),
);

function sseEvents(includeUsage: boolean): string[] {
  const head = { id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: 'gpt-4o-mini', system_fingerprint: 'fp_bench' };
  const extra = includeUsage ? { usage: null } : {};
  const ev = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
  const out = [ev({ ...head, choices: [{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }], ...extra })];
  const per = Math.ceil(COMPLETION_TOKENS / CONTENT_EVENTS);
  for (let i = 0; i < CONTENT_EVENTS; i++) {
    const piece = Array.from({ length: per }, (_, j) => ` word${i * per + j}`).join('');
    out.push(ev({ ...head, choices: [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }], ...extra }));
  }
  out.push(ev({ ...head, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], ...extra }));
  if (includeUsage) out.push(ev({ ...head, choices: [], usage }));
  out.push('data: [DONE]\n\n');
  return out;
}
const streamPlain = sseEvents(false);
const streamUsage = sseEvents(true);
const streamPlainBuf = Buffer.from(streamPlain.join(''));
const streamUsageBuf = Buffer.from(streamUsage.join(''));

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

function answer(res: http.ServerResponse, raw: string): void {
  let body: { stream?: unknown; stream_options?: { include_usage?: unknown }; user?: unknown } | undefined;
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
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': completion.length });
    res.end(completion);
    return;
  }
  const withUsage = body.stream_options?.include_usage === true;
  const delay = typeof body.user === 'string' && body.user.startsWith('delay-') ? Number(body.user.slice(6)) : 0;
  res.writeHead(200, SSE_HEADERS);
  if (!delay) {
    res.end(withUsage ? streamUsageBuf : streamPlainBuf);
    return;
  }
  const events = withUsage ? streamUsage : streamPlain;
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
  if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => answer(res, Buffer.concat(chunks).toString('utf8')));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
