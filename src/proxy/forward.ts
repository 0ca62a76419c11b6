// Step 6 of the hot path: send the request upstream and relay the answer, metering usage.
// Streams are relayed event by event as they arrive (no buffering beyond one SSE event); the usage
// chunk Tollgate asked for is dropped again when the client did not ask for it. When a client goes
// away mid-stream, Tollgate keeps reading the upstream for up to `drainMs` to meter the usage the
// provider itself reports (what it bills); past that it cancels, and meters what it saw (flagged
// as estimated). The reservation made at admission already covered the full output either way.
import type { ServerResponse } from 'node:http';
import { errors as undiciErrors } from 'undici';
import { poolFor } from '../providers/http-pool.ts';
import type { ResolvedRoute, StreamMeter, Usage } from '../providers/types.ts';
import { usageFromResponse } from '../providers/openai-compatible/adapter.ts';
import { sendError, sendJson, type HeaderMap } from './respond.ts';

export interface Upstream {
  route: ResolvedRoute;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
  timeoutMs: number;
  /** after a client disconnect, how long to keep reading a stream for its usage */
  drainMs: number;
}

export interface ForwardResult {
  status: number;
  usage: Usage | undefined;
  estimated: boolean;
  errorCode: string | null;
  streamed: boolean;
}

// Upstream statuses relayed as they are (the client's request was at fault, or the provider is
// rate limiting); anything else from the provider is a gateway failure (502), including 401/403
// (the organization's credential was refused: never the client's fault, never its key).
const RELAYED = new Set([400, 404, 409, 413, 415, 422, 429]);

// Upstream URLs are a handful of base URLs × endpoints: parse each once.
const targets = new Map<string, { origin: string; path: string }>();
function target(baseUrl: string, path: string): { origin: string; path: string } {
  const key = baseUrl + path;
  let t = targets.get(key);
  if (!t) {
    const url = new URL(key);
    targets.set(key, (t = { origin: url.origin, path: url.pathname + url.search }));
  }
  return t;
}

export async function forward(res: ServerResponse, up: Upstream, meter: StreamMeter, headers: HeaderMap): Promise<ForwardResult> {
  const { origin, path } = target(up.route.baseUrl, up.path);
  let upstreamBody: { destroy(err?: Error): void } | undefined;
  let cancelTimer: NodeJS.Timeout | undefined;
  let cancelled = false;
  // The client went away: keep reading for up to drainMs (to meter the provider's usage), then cancel.
  const cancelLater = () => {
    if (!upstreamBody || cancelTimer) return;
    cancelTimer = setTimeout(() => {
      cancelled = true;
      upstreamBody!.destroy(new Error('client closed'));
    }, up.drainMs);
  };
  const onClose = () => {
    if (!res.writableFinished) cancelLater();
  };
  res.on('close', onClose);
  try {
    const upstream = await poolFor(origin).request({ method: 'POST', path, headers: up.headers, body: up.body, headersTimeout: up.timeoutMs, bodyTimeout: up.timeoutMs });
    upstreamBody = upstream.body;
    if (res.destroyed) cancelLater();
    const type = String(upstream.headers['content-type'] ?? '');
    if (upstream.statusCode >= 400) {
      const text = await upstream.body.text();
      return relayError(res, upstream.statusCode, text, headers);
    }
    if (type.includes('text/event-stream')) return await relayStream(res, upstream.body, meter, headers);
    const buf = Buffer.from(await upstream.body.arrayBuffer());
    const usage = usageFromResponse(buf);
    sendJson(res, upstream.statusCode, buf, headers);
    return { status: upstream.statusCode, usage, estimated: false, errorCode: res.destroyed ? 'client_closed' : null, streamed: false };
  } catch (err) {
    if (res.headersSent) {
      // Mid-stream failure or cancellation after the client left: end what was sent; meter what was seen.
      res.end();
      return { status: res.statusCode, ...meter.result(), errorCode: res.destroyed ? 'client_closed' : 'upstream_error', streamed: true };
    }
    if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
      sendError(res, 'upstream_timeout', 'The upstream provider did not answer in time.', headers);
      return { status: 504, usage: undefined, estimated: false, errorCode: 'upstream_timeout', streamed: false };
    }
    if (cancelled) return { status: 499, usage: undefined, estimated: false, errorCode: 'client_closed', streamed: false };
    sendError(res, 'upstream_error', 'The upstream provider could not be reached.', headers);
    return { status: 502, usage: undefined, estimated: false, errorCode: 'upstream_error', streamed: false };
  } finally {
    clearTimeout(cancelTimer);
    res.off('close', onClose);
  }
}

function relayError(res: ServerResponse, status: number, text: string, headers: HeaderMap): ForwardResult {
  let parsed: { error?: { message?: unknown } } | undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const message = typeof parsed?.error?.message === 'string' ? parsed.error.message : `HTTP ${status}`;
  if (RELAYED.has(status) && parsed?.error) {
    sendJson(res, status, text, headers);
    return { status, usage: undefined, estimated: false, errorCode: 'upstream_' + status, streamed: false };
  }
  if (status === 404) {
    sendError(res, 'model_not_found', `The upstream provider does not know this model: ${message}`, headers, 'model');
    return { status, usage: undefined, estimated: false, errorCode: 'model_not_found', streamed: false };
  }
  const why = status === 401 || status === 403 ? 'rejected the gateway credential' : `failed with HTTP ${status}`;
  sendError(res, 'upstream_error', `The upstream provider ${why}: ${message}`, headers, null, { upstream_status: status });
  return { status: 502, usage: undefined, estimated: false, errorCode: 'upstream_' + status, streamed: false };
}

const EVENT_END = Buffer.from('\n\n');
const CR = 13;

/**
 * Relays SSE on its bytes: complete events are found with a byte search, handed to the meter, and
 * written out as slices of the upstream's own buffers (no decoding, no re-encoding). A partial event
 * waits for its end in the next chunk. CRLF streams are normalized to LF first.
 */
async function relayStream(res: ServerResponse, body: AsyncIterable<Buffer>, meter: StreamMeter, headers: HeaderMap): Promise<ForwardResult> {
  headers['content-type'] = 'text/event-stream; charset=utf-8';
  headers['cache-control'] = 'no-cache';
  headers['x-accel-buffering'] = 'no';
  res.writeHead(200, headers);
  res.flushHeaders();
  let pending: Buffer | undefined;
  for await (const chunk of body) {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    if (buf.includes(CR)) buf = Buffer.from(buf.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    const out: Buffer[] = [];
    let start = 0;
    let keptFrom = 0;
    let cut: number;
    while ((cut = buf.indexOf(EVENT_END, start)) !== -1) {
      const end = cut + 2;
      if (!meter.onEvent(buf.subarray(start, cut))) {
        if (start > keptFrom) out.push(buf.subarray(keptFrom, start));
        keptFrom = end;
      }
      start = end;
    }
    if (start > keptFrom) out.push(buf.subarray(keptFrom, start));
    pending = start < buf.length ? buf.subarray(start) : undefined;
    // A departed client gets nothing more, but the stream is still read for its usage.
    if (res.destroyed) continue;
    let ok = true;
    for (const piece of out) ok = res.write(piece) && ok;
    if (!ok) await new Promise<void>((resolve) => res.once('drain', resolve).once('close', resolve));
  }
  if (pending && pending.toString('latin1').trim() && meter.onEvent(pending) && !res.destroyed) res.write(pending);
  res.end();
  return { status: 200, ...meter.result(), errorCode: res.destroyed ? 'client_closed' : null, streamed: true };
}
