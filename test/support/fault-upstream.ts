// A fault-injecting OpenAI upstream for the fault matrix: a proxy in front of the faithful fake
// (fake-upstream.ts) that breaks chosen requests in chosen ways. Everything it does not break is the
// fake's own answer, byte for byte, so usage stays deterministic (see fake-upstream.ts).
//
// The model name picks the behaviour of one request: `fault`, then `_`-separated directives:
//   fault                 the fake's answer, untouched
//   fault_hang            never answers: no status line, no headers (Tollgate's first-byte timeout)
//   fault_5xx-503         the fake's OpenAI error body with that status (its `error-<status>` model)
//   fault_slow-300        waits 300 ms before the status line, then answers normally
//   fault_drip-10         10 ms between SSE events
//   fault_linger-300      waits 300 ms after the stream's last event ([DONE]) before ending the body
//   fault_pad-65536       every SSE event followed by an SSE comment of that many bytes (a firehose
//                         for slow-reader tests; comments are valid SSE, ignored by clients)
//   fault_reset-3         streams 3 events, then resets the TCP connection (non-streamed: half the
//                         body, then the reset)
//   fault_stall-3         streams 3 events, then nothing, the connection left open
//   fault_eof-3           streams 3 events and half of the next, then ends cleanly (no [DONE])
//   fault_badsse-3        after 3 events, one whose data is not JSON; then the rest, untouched
//   fault_badjson         non-streamed: the JSON body cut before its usage, status 200
// e.g. `fault_drip-5_reset-10`. Tests put a unique marker in the request's `user` field (passed
// through by Tollgate, ignored by the fake) and read back what this upstream did with `call(marker)`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeUpstream, type FakeOptions, type FakeUpstream } from './fake-upstream.ts';
import { writeFlowing } from './fake-kit.ts';

export interface Directives {
  hang: boolean;
  status: number | undefined;
  slowMs: number;
  dripMs: number;
  lingerMs: number;
  padBytes: number;
  reset: number | undefined;
  stall: number | undefined;
  eof: number | undefined;
  badsse: number | undefined;
  badjson: boolean;
}

/** What the upstream did with one request, as Tollgate saw it from the other end of the socket. */
export interface FaultCall {
  marker: string;
  model: string;
  stream: boolean;
  directives: Directives;
  /** the status line sent; undefined if none was */
  status: number | undefined;
  /** SSE events written (a malformed one included, padding comments not) */
  events: number;
  /** of them, events with non-empty content: one completion token each, as the fake streams */
  contentEvents: number;
  /** the usage the upstream reported (in the JSON body, or the stream's usage chunk), if it was sent */
  usage: { prompt_tokens: number; completion_tokens: number } | undefined;
  /** the fault applied, once it was */
  cut: 'hang' | 'reset' | 'stall' | 'eof' | 'badjson' | undefined;
  /** everything meant to be sent was sent */
  finished: boolean;
  /** Tollgate closed the connection before the upstream was done with it */
  closedByPeer: boolean;
  /** settles when the connection from Tollgate is closed, for whatever reason */
  ended: Promise<void>;
}

export interface FaultUpstream extends FakeUpstream {
  /** the faithful fake behind the faults */
  inner: FakeUpstream;
  calls: FaultCall[];
  call(marker: string): FaultCall | undefined;
  /** settles when the request with this marker has reached the upstream */
  arrived(marker: string): Promise<FaultCall>;
}

export function parseDirectives(model: string): Directives {
  const d: Directives = { hang: false, status: undefined, slowMs: 0, dripMs: 0, lingerMs: 0, padBytes: 0, reset: undefined, stall: undefined, eof: undefined, badsse: undefined, badjson: false };
  const [head, ...rest] = model.split('_');
  if (head !== 'fault') return d;
  for (const part of rest) {
    const [name, arg] = part.split('-');
    const n = Number(arg);
    if (name === 'hang') d.hang = true;
    else if (name === 'badjson') d.badjson = true;
    else if (name === '5xx') d.status = n;
    else if (name === 'slow') d.slowMs = n;
    else if (name === 'drip') d.dripMs = n;
    else if (name === 'linger') d.lingerMs = n;
    else if (name === 'pad') d.padBytes = n;
    else if (name === 'reset' || name === 'stall' || name === 'eof' || name === 'badsse') d[name] = n;
    else throw new Error(`fault upstream: unknown directive "${part}" in model ${model}`);
  }
  return d;
}

const CONTENT = /"(content|text)":"[^"]/;
const USAGE = /"usage":\{"prompt_tokens":(\d+),"completion_tokens":(\d+)/;

export async function startFaultUpstream(options: FakeOptions = {}): Promise<FaultUpstream> {
  const inner = await startFakeUpstream(options);
  const innerUrl = new URL(inner.baseUrl);
  // A connection per request: a kept-alive one can be closed by the fake just as it is reused, and
  // that reset would pass for a fault.
  const agent = new http.Agent({ keepAlive: false });
  const calls: FaultCall[] = [];
  const byMarker = new Map<string, FaultCall>();
  const waiting = new Map<string, Array<(c: FaultCall) => void>>();
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    let body: Record<string, unknown> = {};
    try { body = JSON.parse(raw.toString('utf8')); } catch { /* the fake answers bad JSON itself */ }
    const model = typeof body.model === 'string' ? body.model : '';
    let closed!: () => void;
    const call: FaultCall = {
      marker: typeof body.user === 'string' ? body.user : `#${calls.length}`,
      model, stream: body.stream === true, directives: parseDirectives(model),
      status: undefined, events: 0, contentEvents: 0, usage: undefined, cut: undefined, finished: false, closedByPeer: false,
      ended: new Promise<void>((resolve) => (closed = resolve)),
    };
    calls.push(call);
    byMarker.set(call.marker, call);
    for (const wake of waiting.get(call.marker) ?? []) wake(call);
    waiting.delete(call.marker);
    res.on('close', () => {
      // Closed before the upstream was done, and not by its own reset or clean cut.
      if (!call.finished && !res.writableFinished && call.cut !== 'reset') call.closedByPeer = true;
      closed();
    });
    const d = call.directives;
    if (d.hang) return void (call.cut = 'hang');
    if (d.slowMs > 0) await sleep(d.slowMs);
    if (res.destroyed) return;

    // The fake answers scripted errors for `error-<status>` models.
    const forwarded = d.status ? Buffer.from(JSON.stringify({ ...body, model: `error-${d.status}` })) : raw;
    const headers = { ...req.headers, host: innerUrl.host, 'content-length': String(forwarded.length) };
    const up = http.request({ host: innerUrl.hostname, port: innerUrl.port, path: req.url, method: req.method, headers, agent });
    res.on('close', () => up.destroy()); // Tollgate left: the fake stops too
    // A failure of the fake's side is passed on as a broken connection, unless a fault already cut it.
    up.on('error', () => {
      if (!call.cut) res.destroy();
    });
    up.end(forwarded);
    const [answer] = (await once(up, 'response')) as [http.IncomingMessage];
    call.status = answer.statusCode ?? 502;
    const type = String(answer.headers['content-type'] ?? '');
    const head = { 'content-type': type, 'x-request-id': String(answer.headers['x-request-id'] ?? '') };
    if (type.includes('text/event-stream')) return relayEvents(call, answer, up, res, head);

    const bytes: Buffer[] = [];
    for await (const c of answer) bytes.push(c as Buffer);
    let out = Buffer.concat(bytes);
    if (d.badjson && call.status === 200) {
      call.cut = 'badjson';
      const at = out.indexOf('"usage"');
      out = out.subarray(0, at > 0 ? at : out.length >> 1);
    } else {
      call.usage = usageIn(out.toString('utf8'));
    }
    if (res.destroyed) return;
    res.writeHead(call.status, { ...head, 'content-length': String(out.length) });
    if (d.reset !== undefined) {
      // Non-streamed: half the body, then the reset.
      call.cut = 'reset';
      call.usage = undefined;
      res.write(out.subarray(0, out.length >> 1));
      return void res.socket?.resetAndDestroy();
    }
    res.end(out);
    call.finished = true;
  }

  /** Relays the fake's stream event by event, applying the stream faults at their event. */
  async function relayEvents(call: FaultCall, answer: http.IncomingMessage, up: http.ClientRequest, res: http.ServerResponse, head: Record<string, string>): Promise<void> {
    const d = call.directives;
    res.writeHead(call.status!, { ...head, 'cache-control': 'no-cache' });
    const padding = d.padBytes > 0 ? `: ${'x'.repeat(d.padBytes)}\n\n` : '';
    answer.setEncoding('utf8'); // characters split across chunks are decoded whole
    let pending = '';
    for await (const chunk of answer) {
      pending += chunk as string;
      let cut: number;
      while ((cut = pending.indexOf('\n\n')) !== -1) {
        const event = pending.slice(0, cut + 2);
        pending = pending.slice(cut + 2);
        if (res.destroyed) return;
        if (call.events === d.reset) {
          call.cut = 'reset';
          up.destroy();
          return void res.socket?.resetAndDestroy();
        }
        if (call.events === d.stall) {
          call.cut = 'stall';
          return void up.destroy(); // the connection to Tollgate stays open, silent
        }
        if (call.events === d.eof) {
          call.cut = 'eof';
          up.destroy();
          const half = event.slice(0, event.length >> 1);
          if (CONTENT.test(half)) call.contentEvents++;
          res.end(half);
          return;
        }
        if (call.events === d.badsse) {
          call.events++;
          await writeFlowing(res, 'data: {"id":"chatcmpl-broken","object":"chat.compl\n\n');
        }
        if (d.dripMs > 0 && call.events > 0) await sleep(d.dripMs);
        call.events++;
        if (CONTENT.test(event)) call.contentEvents++;
        const usage = usageIn(event);
        if (usage) call.usage = usage;
        await writeFlowing(res, event + padding);
      }
    }
    if (d.lingerMs > 0) await sleep(d.lingerMs);
    if (res.destroyed) return;
    res.end();
    call.finished = true;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref(); // as the fake: a forgotten upstream must not keep the test file alive
  const fault: FaultUpstream = {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    inner,
    calls,
    requests: inner.requests,
    usageTotals: inner.usageTotals,
    options: inner.options,
    call: (marker) => byMarker.get(marker),
    arrived: (marker) => {
      const known = byMarker.get(marker);
      if (known) return Promise.resolve(known);
      return new Promise((resolve) => waiting.set(marker, [...(waiting.get(marker) ?? []), resolve]));
    },
    reset() {
      inner.reset();
      calls.length = 0;
      byMarker.clear();
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      agent.destroy();
      server.close(() => void inner.close().then(resolve));
    }),
  };
  return fault;
}

function usageIn(text: string): FaultCall['usage'] {
  const m = USAGE.exec(text);
  return m ? { prompt_tokens: Number(m[1]), completion_tokens: Number(m[2]) } : undefined;
}
