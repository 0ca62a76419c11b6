// The fault matrix's clients: drives a bounded batch of /v1 chat requests through a real Tollgate,
// several at a time, and records what each client got — the response head (status, x-request-id),
// whether the whole answer arrived, and how a stream ended. Every request carries a unique marker in
// `user`, which the fault upstream records, and a client-side deadline: a request still open at its
// deadline is recorded as hung and torn down, never waited on.
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import OpenAI, { APIError } from 'openai';
import type { FaultUpstream } from './fault-upstream.ts';

/** 1 µ$ per prompt token, 2 µ$ per completion token: every cost is exact and tells the two apart. */
export const PRICE = { input: 1_000_000, output: 2_000_000 };

/** Tollgate's timeouts in every cell, short so faults resolve in seconds (a file may lengthen one). */
export const TIMEOUTS = {
  TOLLGATE_UPSTREAM_FIRST_BYTE_TIMEOUT_MS: 2000,
  TOLLGATE_UPSTREAM_TIMEOUT_MS: 4000,
  TOLLGATE_CLIENT_STALL_MS: 1000,
  TOLLGATE_ABORT_DRAIN_MS: 1000,
};
/**
 * A client gives up this long after Tollgate's timeout should have answered for it: "nothing hangs"
 * means nothing waits on a fault for a time of its own, and this 2-core machine is shared.
 */
export const MARGIN_MS = 5000;

/** Gateway env: the timeouts, and a config file pricing every model the cell uses at PRICE. */
export function faultEnv(models: string[], extra: Record<string, string> = {}): Record<string, string> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tollgate-faults-')), 'config.json');
  writeFileSync(file, JSON.stringify({ pricing: Object.fromEntries(models.map((m) => [m, { ...PRICE, maxOutputTokens: 4096 }])) }));
  return { TOLLGATE_CONFIG: file, ...Object.fromEntries(Object.entries(TIMEOUTS).map(([k, v]) => [k, String(v)])), ...extra };
}

export type ClientKind =
  | 'fetch' // non-streamed, body read as bytes
  | 'sdk-stream' // the openai SDK's stream: error events surface as APIError
  | 'raw-stream' // fetch, the SSE text read to its end
  | 'abort-mid' // SDK stream, aborted after `abortAfter` content events
  | 'abort-early' // aborted once the upstream has the request, before any response byte
  | 'stop-reading'; // node:http stream, reads one chunk, then stops reading with the socket open

export interface Shot {
  model: string;
  client: ClientKind;
  maxTokens: number;
  /** abort-early only: a streamed request (the other kinds stream unless they are `fetch`) */
  stream?: boolean;
  /** streams: ask for the usage chunk */
  includeUsage?: boolean;
  abortAfter?: number;
  /** client-side deadline; default: the longest Tollgate timeout + MARGIN_MS */
  deadlineMs?: number;
}

/** `n` copies of a shot. */
export const times = (n: number, shot: Shot): Shot[] => Array.from({ length: n }, () => ({ ...shot }));

/** Interleaves groups of shots, so faulty and normal requests are in flight together. */
export function mix(...groups: Shot[][]): Shot[] {
  const out: Shot[] = [];
  for (let i = 0; groups.some((g) => i < g.length); i++) for (const g of groups) if (i < g.length) out.push(g[i]!);
  return out;
}

/** Normal requests (model `fault`, no directive): `n` non-streamed and `n` streamed. */
export const ok = (n: number): Shot[] => mix(times(n, { model: 'fault', client: 'fetch', maxTokens: 16 }), times(n, { model: 'fault', client: 'sdk-stream', maxTokens: 16, includeUsage: true }));

export interface Outcome {
  shot: Shot;
  marker: string;
  stream: boolean;
  /** from the response head; undefined when none arrived */
  requestId: string | undefined;
  status: number | undefined;
  /** the whole answer arrived: a body, or a stream that ended (finished, cut or with an error event) */
  answered: boolean;
  /** error responses and stream error events: `error.code` */
  errorCode: string | undefined;
  /** a 200 JSON body that does not parse */
  malformed: boolean;
  /** the usage the client saw (JSON body, or the stream's usage chunk) */
  usage: { prompt_tokens: number; completion_tokens: number } | undefined;
  contentEvents: number;
  /** streams: a chunk with finish_reason arrived (raw-stream: and [DONE]) */
  finished: boolean;
  /** streams: ended by an error event */
  streamError: boolean;
  /** the client left on purpose */
  aborted: boolean;
  /** stop-reading: the upstream request ended before the deadline (Tollgate let go of it) */
  released: boolean;
  hung: boolean;
  /** anything else that went wrong on the client's side */
  failure: string | undefined;
  ms: number;
}

export interface Target {
  url: string;
  secret: string;
  fault: FaultUpstream;
}

const run = randomBytes(3).toString('hex');
let seq = 0;

export interface DriveOptions {
  concurrency: number;
  /** sees each outcome as it lands, with how many have landed */
  onDone?(o: Outcome, done: number): void;
  /** checked before each request: true stops the load (the requests in flight still finish) */
  stop?(): boolean;
}

/** Runs `shots`, `concurrency` at a time; the outcomes of those that were sent, in order. */
export async function drive(target: Target, shots: Shot[], opts: DriveOptions): Promise<Outcome[]> {
  // logLevel off: the SDK would print every malformed event the faults send.
  const client = new OpenAI({ apiKey: target.secret, baseURL: target.url + '/v1', maxRetries: 0, logLevel: 'off' });
  const out: Array<Outcome | undefined> = new Array(shots.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < shots.length && !opts.stop?.()) {
      const i = next++;
      const o = (out[i] = await one(target, client, shots[i]!));
      opts.onDone?.(o, ++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, shots.length) }, worker));
  return out.filter((o) => o !== undefined);
}

async function one(target: Target, client: OpenAI, shot: Shot): Promise<Outcome> {
  const marker = `fm-${run}-${++seq}`;
  const stream = shot.client === 'abort-early' ? shot.stream === true : shot.client !== 'fetch';
  const o: Outcome = {
    shot, marker, stream, requestId: undefined, status: undefined, answered: false, errorCode: undefined, malformed: false, usage: undefined,
    contentEvents: 0, finished: false, streamError: false, aborted: false, released: false, hung: false, failure: undefined, ms: 0,
  };
  const deadlineMs = shot.deadlineMs ?? TIMEOUTS.TOLLGATE_UPSTREAM_TIMEOUT_MS + MARGIN_MS;
  const deadline = AbortSignal.timeout(deadlineMs);
  const mine = new AbortController();
  const signal = AbortSignal.any([deadline, mine.signal]);
  const body = {
    model: shot.model, messages: [{ role: 'user' as const, content: `fault matrix ${marker}` }], max_tokens: shot.maxTokens, user: marker,
    ...(stream ? { stream: true, ...(shot.includeUsage ? { stream_options: { include_usage: true } } : {}) } : {}),
  };
  const started = performance.now();
  try {
    if (shot.client === 'fetch' || shot.client === 'raw-stream' || shot.client === 'abort-early') {
      if (shot.client === 'abort-early') void target.fault.arrived(marker).then(() => { o.aborted = true; mine.abort(); });
      await viaFetch(target, body, signal, o);
    } else if (shot.client === 'stop-reading') {
      await stopReading(target, body, deadlineMs, o);
    } else {
      await viaSdk(client, body, signal, shot.client === 'abort-mid' ? (shot.abortAfter ?? 1) : undefined, mine, o);
    }
  } catch (err) {
    if (!deadline.aborted && !o.aborted) o.failure = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  // The SDK ends a stream's iteration quietly when its signal aborts: the deadline decides (a
  // client that stops reading keeps its own).
  if (deadline.aborted && shot.client !== 'stop-reading') {
    o.hung = true;
    o.answered = false;
  }
  o.ms = Math.round(performance.now() - started);
  return o;
}

type Body = Record<string, unknown> & { user: string };

async function viaFetch(target: Target, body: Body, signal: AbortSignal, o: Outcome): Promise<void> {
  const res = await fetch(target.url + '/v1/chat/completions', {
    method: 'POST', signal, body: JSON.stringify(body),
    headers: { authorization: `Bearer ${target.secret}`, 'content-type': 'application/json' },
  });
  o.status = res.status;
  o.requestId = res.headers.get('x-request-id') ?? undefined;
  const text = await res.text();
  o.answered = true;
  if (res.headers.get('content-type')?.includes('text/event-stream')) return readSse(text, o);
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    o.malformed = true;
    return;
  }
  if (res.status >= 400) o.errorCode = json?.error?.code ?? '(no error.code)';
  else o.usage = json?.usage ?? undefined;
}

/** A whole SSE body: content events, usage, [DONE], error events (OpenAI: `data: {"error": …}`). */
function readSse(text: string, o: Outcome): void {
  let done = false;
  let finish = false;
  for (const event of text.split('\n\n')) {
    const data = event.split('\n').find((l) => l.startsWith('data:'))?.slice(5).trim();
    if (!data) continue;
    if (data === '[DONE]') {
      done = true;
      continue;
    }
    let chunk: any;
    try { chunk = JSON.parse(data); } catch { continue; } // a malformed event the upstream sent
    if (chunk?.error) {
      o.streamError = true;
      o.errorCode = chunk.error.code ?? '(no error.code)';
    }
    if (chunk?.choices?.[0]?.delta?.content) o.contentEvents++;
    if (chunk?.choices?.[0]?.finish_reason) finish = true;
    if (chunk?.usage) o.usage = chunk.usage;
  }
  o.finished = done && finish;
}

async function viaSdk(client: OpenAI, body: Body, signal: AbortSignal, abortAfter: number | undefined, mine: AbortController, o: Outcome): Promise<void> {
  let stream;
  try {
    const started = await client.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsStreaming, { signal }).withResponse();
    stream = started.data;
    o.status = started.response.status;
    o.requestId = started.response.headers.get('x-request-id') ?? undefined;
  } catch (err) {
    if (!(err instanceof APIError) || err.status === undefined) throw err;
    // Refused before the stream started: an error body in OpenAI's shape.
    o.status = err.status;
    o.requestId = err.headers?.get('x-request-id') ?? undefined;
    o.errorCode = (err.code as string | null | undefined) ?? '(no error.code)';
    o.answered = true;
    return;
  }
  try {
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) o.contentEvents++;
      if (chunk.choices[0]?.finish_reason) o.finished = true;
      if (chunk.usage) o.usage = chunk.usage;
      if (abortAfter !== undefined && o.contentEvents >= abortAfter) {
        o.aborted = true;
        mine.abort();
        return;
      }
    }
    o.answered = true;
  } catch (err) {
    // An error event in the stream: the SDK raises it as an APIError without a status.
    if (!(err instanceof APIError) || err.status !== undefined) throw err;
    o.streamError = true;
    o.errorCode = (err.code as string | null | undefined) ?? '(no error.code)';
    o.answered = true;
  }
}

/**
 * Opens a stream, reads its first chunk, then stops reading with the socket open. A paused socket
 * cannot see its peer leave, so the test watches the other side instead: Tollgate must let go of
 * the upstream request (the fault upstream sees its connection end) before the deadline. Reading
 * then resumes: the stream must end cut short (Tollgate dropped it), not run on to [DONE].
 */
async function stopReading(target: Target, body: Body, deadlineMs: number, o: Outcome): Promise<void> {
  const payload = JSON.stringify(body);
  const req = http.request(target.url + '/v1/chat/completions', {
    method: 'POST', headers: { authorization: `Bearer ${target.secret}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
  });
  req.end(payload);
  const started = Date.now();
  const [res] = await new Promise<[http.IncomingMessage]>((resolve, reject) => req.once('response', (r) => resolve([r])).once('error', reject));
  // Tollgate cutting the connection is the expected end here, not an error to throw.
  req.on('error', () => {});
  res.on('error', () => {});
  o.status = res.statusCode;
  o.requestId = String(res.headers['x-request-id'] ?? '') || undefined;
  let text = '';
  await new Promise<void>((resolve) => res.once('data', (c: Buffer) => {
    text += c.toString('utf8');
    res.pause();
    resolve();
  }));
  const call = await target.fault.arrived(body.user);
  const left = deadlineMs - (Date.now() - started);
  o.released = await Promise.race([call.ended.then(() => true), new Promise<boolean>((r) => setTimeout(r, Math.max(0, left), false).unref())]);
  if (!o.released) {
    o.hung = true;
    req.destroy();
    return;
  }
  // Tollgate has let go upstream: whatever it still sends is what it had buffered, then the end.
  await new Promise<void>((resolve) => {
    res.on('data', (c: Buffer) => (text += c.toString('utf8')));
    res.once('close', resolve);
    res.resume();
    setTimeout(() => { req.destroy(); resolve(); }, MARGIN_MS).unref();
  });
  o.answered = true;
  readSse(text, o);
}
