// The demo model's "upstream": an undici Dispatcher that answers in this process. The hot path
// forwards to it exactly as to a provider's connection pool (proxy/forward.ts calls
// `dispatch(opts, handler)` on what http-pool.ts hands it), so a demo request goes through every
// step a real one does — authentication, admission, metering, the stream relay, settle, the log —
// and only the network is missing. No socket, no DNS: nothing leaves the machine.
import { Dispatcher } from 'undici';
import { completionEvents, completionJson, embeddingsJson, errorJson, modelsJson } from './answers.ts';
import { responseEvents, responseJson } from './responses.ts';

/** Not a network address: http-pool.ts hands requests for it to a DemoDispatcher. */
export const DEMO_BASE_URL = 'demo://local/v1';
/** No provider_credentials row has id 0 (ids start at 1): the demo deployment's credential id. */
export const DEMO_CREDENTIAL_ID = 0;

/** A streamed answer's pieces are this far apart: it reads as a stream in a terminal or the SDK. */
export const DEMO_PIECE_MS = 15;

const JSON_HEADERS = { 'content-type': 'application/json' };
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/** The per-request controller undici's handlers expect: abort, pause and resume the answer. */
class DemoController implements Dispatcher.DispatchController {
  private abortedWith: Error | null = null;
  private isPaused = false;
  private readonly onAbort: (reason: Error) => void;
  private readonly onResume: () => void;

  constructor(onAbort: (reason: Error) => void, onResume: () => void) {
    this.onAbort = onAbort;
    this.onResume = onResume;
  }

  get aborted(): boolean {
    return this.abortedWith !== null;
  }
  get paused(): boolean {
    return this.isPaused;
  }
  get reason(): Error | null {
    return this.abortedWith;
  }
  abort(reason: Error): void {
    if (this.abortedWith) return;
    this.abortedWith = reason ?? new Error('aborted');
    this.onAbort(this.abortedWith);
  }
  pause(): void {
    this.isPaused = true;
  }
  resume(): void {
    if (!this.isPaused) return;
    this.isPaused = false;
    this.onResume();
  }
}

/** One answer being delivered to one handler. */
class DemoExchange {
  private readonly handler: Dispatcher.DispatchHandler;
  private readonly controller: DemoController;
  private chunks: string[] = [];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private done = false;
  private readonly spacing: number;

  constructor(handler: Dispatcher.DispatchHandler, spacing: number) {
    this.handler = handler;
    this.spacing = spacing;
    this.controller = new DemoController(this.fail, this.resumed);
  }

  start(status: number, headers: Record<string, string>, chunks: string[]): void {
    const c = this.controller;
    this.handler.onRequestStart?.(c, {});
    if (c.aborted) return;
    this.handler.onResponseStart?.(c, status, headers, status < 400 ? 'OK' : 'Error');
    if (c.aborted) return;
    this.chunks = chunks;
    this.pump();
  }

  /** Sends the next chunk (streams: one event per tick, DEMO_PIECE_MS apart), then the end. */
  private readonly pump = (): void => {
    this.timer = undefined;
    const c = this.controller;
    if (this.done || c.aborted || c.paused) return;
    if (this.next < this.chunks.length) {
      this.handler.onResponseData?.(c, Buffer.from(this.chunks[this.next++]!));
      if (!this.done && !c.aborted && !c.paused) this.timer = setTimeout(this.pump, this.next < this.chunks.length ? this.spacing : 0);
      return;
    }
    this.done = true;
    this.handler.onResponseEnd?.(c, {});
  };

  private readonly resumed = (): void => {
    clearTimeout(this.timer);
    this.pump();
  };

  private readonly fail = (reason: Error): void => {
    clearTimeout(this.timer);
    if (this.done) return;
    this.done = true;
    this.handler.onResponseError?.(this.controller, reason);
  };
}

/**
 * Routes by the path's last segments, so it serves whatever base path the demo credential names:
 * POST …/chat/completions, …/completions, …/embeddings, …/responses (JSON, or SSE with
 * `stream: true`), GET …/models.
 */
export class DemoDispatcher extends Dispatcher {
  private readonly spacing: number;

  constructor(spacingMs = DEMO_PIECE_MS) {
    super();
    this.spacing = spacingMs;
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const exchange = new DemoExchange(handler, this.spacing);
    // Answered on a later tick, like a socket would: the caller finishes setting up first.
    setImmediate(() => {
      const [status, headers, chunks] = answer(opts);
      exchange.start(status, headers, chunks);
    });
    return true;
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    if (callback) return void setImmediate(callback);
    return Promise.resolve();
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const callback = typeof a === 'function' ? a : b;
    if (callback) return void setImmediate(callback);
    return Promise.resolve();
  }
}

type Answer = [status: number, headers: Record<string, string>, chunks: string[]];

function answer(opts: Dispatcher.DispatchOptions): Answer {
  const path = opts.path.split('?')[0]!;
  if (opts.method === 'GET' && path.endsWith('/models')) return [200, JSON_HEADERS, [modelsJson('tollgate-demo')]];
  if (opts.method !== 'POST') return [405, JSON_HEADERS, [errorJson(`The demo model does not serve ${opts.method} ${path}.`)]];
  const body = parse(opts.body);
  if (!body) return [400, JSON_HEADERS, [errorJson('The request body must be a JSON object.')]];
  const model = typeof body.model === 'string' ? body.model : 'tollgate-demo';
  const stream = body.stream === true;
  if (path.endsWith('/chat/completions')) return text(model, body, false, stream);
  if (path.endsWith('/completions')) return text(model, body, true, stream);
  if (path.endsWith('/responses')) return stream ? [200, SSE_HEADERS, responseEvents(model, body)] : [200, JSON_HEADERS, [responseJson(model, body)]];
  if (path.endsWith('/embeddings')) {
    const json = embeddingsJson(model, body);
    return json ? [200, JSON_HEADERS, [json]] : [400, JSON_HEADERS, [errorJson("'input' is a required property", 'input')]];
  }
  return [404, JSON_HEADERS, [errorJson(`The demo model serves chat/completions, completions, embeddings and responses, not ${path}.`)]];
}

function text(model: string, body: Record<string, unknown>, legacy: boolean, stream: boolean): Answer {
  if (!stream) return [200, JSON_HEADERS, [completionJson(model, body, legacy)]];
  return [200, SSE_HEADERS, completionEvents(model, body, legacy)];
}

function parse(raw: Dispatcher.DispatchOptions['body']): Record<string, unknown> | undefined {
  if (typeof raw !== 'string' && !Buffer.isBuffer(raw) && !(raw instanceof Uint8Array)) return undefined;
  try {
    const v: unknown = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
