// How fuzz cases reach the gateway: Fastify's inject (fast, for /api), a keep-alive undici Pool
// over loopback (the /v1 fast lane lives on the raw http server, inject would bypass it), or a raw
// socket for requests no client library will send (CR/LF in header values, bad request lines).
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'undici';
import { RAW_TWEAKS, type RawHead, type RawTweak } from './fuzz-http.ts';

export interface Sent {
  method: string;
  /** path and query, as on the request line */
  path: string;
  headers: Array<[string, string]>;
  body: Buffer | undefined;
  /** sent over a raw socket with this tweak */
  raw: RawTweak | null;
}

type ResponseHeaders = Record<string, string | string[] | undefined>;

export type Received =
  | { ok: true; status: number; headers: ResponseHeaders; body: Buffer }
  | { ok: false; error: string };

const TIMEOUT_MS = 15_000;

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS / 1000} s (${what})`)), TIMEOUT_MS);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export async function viaInject(app: FastifyInstance, req: Sent): Promise<Received> {
  try {
    const res = await withTimeout(
      app.inject({ method: req.method as 'GET', url: req.path, headers: Object.fromEntries(req.headers), ...(req.body !== undefined ? { payload: req.body } : {}) }),
      'inject',
    );
    return { ok: true, status: res.statusCode, headers: res.headers as ResponseHeaders, body: res.rawPayload };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export async function viaPool(pool: Pool, port: number, req: Sent): Promise<Received> {
  let res;
  try {
    res = await pool.request({ method: req.method, path: req.path, headers: req.headers.flat(), body: req.body ?? null, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
  } catch (err) {
    // undici refuses some requests before sending anything (a GET or HEAD with a body): send those by hand.
    if ((err as { code?: string }).code === 'UND_ERR_INVALID_ARG' || (err as { code?: string }).code === 'UND_ERR_NOT_SUPPORTED') return viaRaw(port, req);
    return { ok: false, error: `${(err as { code?: string }).code ?? ''} ${(err as Error).message}` };
  }
  try {
    const body = Buffer.from(await res.body.arrayBuffer());
    return { ok: true, status: res.statusCode, headers: res.headers, body };
  } catch (err) {
    return { ok: false, error: `response body: ${(err as Error).message}` };
  }
}

/** One request on its own connection, written byte for byte; the response is parsed by hand. */
export function viaRaw(port: number, req: Sent): Promise<Received> {
  const head: RawHead = {
    method: req.method,
    target: Buffer.from(req.path, 'utf8').toString('latin1'),
    version: 'HTTP/1.1',
    lines: [`Host: 127.0.0.1:${port}`, ...req.headers.map(([k, v]) => `${k}: ${Buffer.from(v, 'utf8').toString('latin1')}`)],
    bodyLength: req.body?.length ?? 0,
  };
  if (req.body !== undefined || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(req.method)) head.lines.push(`Content-Length: ${head.bodyLength}`);
  head.lines.push('Connection: close');
  if (req.raw) RAW_TWEAKS[req.raw](head);
  const bytes = Buffer.concat([Buffer.from(`${head.method} ${head.target} ${head.version}\r\n${head.lines.join('\r\n')}\r\n\r\n`, 'latin1'), req.body ?? Buffer.alloc(0)]);

  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (r: Received) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => finish({ ok: false, error: `no answer within ${TIMEOUT_MS / 1000} s (raw socket)` }), TIMEOUT_MS);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const parsed = parseResponse(Buffer.concat(chunks), req.method === 'HEAD', false);
      if (parsed) finish(parsed);
    });
    socket.on('error', (err) => {
      const parsed = parseResponse(Buffer.concat(chunks), req.method === 'HEAD', true);
      finish(parsed ?? { ok: false, error: `connection ${(err as { code?: string }).code ?? err.message} without a response` });
    });
    socket.on('close', () => {
      const parsed = parseResponse(Buffer.concat(chunks), req.method === 'HEAD', true);
      finish(parsed ?? { ok: false, error: chunks.length ? 'connection closed mid-response' : 'connection closed without a response' });
    });
  });
}

/** The first final (non-1xx) response in `buf`, or undefined while it is incomplete. */
function parseResponse(buf: Buffer, head: boolean, ended: boolean): Received | undefined {
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end === -1) return undefined;
    const lines = buf.subarray(at, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(lines[0] ?? '')?.[1]);
    if (!status) return { ok: false, error: `not an HTTP response: ${JSON.stringify(lines[0]?.slice(0, 60))}` };
    const headers: ResponseHeaders = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).trim().toLowerCase();
      const v = l.slice(i + 1).trim();
      const prev = headers[k];
      headers[k] = prev === undefined ? v : [prev, v].flat();
    }
    if (status < 200) {
      at = end + 4;
      continue;
    }
    const rest = buf.subarray(end + 4);
    if (head || status === 204 || status === 304) return { ok: true, status, headers, body: Buffer.alloc(0) };
    if (String(headers['transfer-encoding']).toLowerCase().includes('chunked')) {
      const body = dechunk(rest);
      return body ? { ok: true, status, headers, body } : undefined;
    }
    const length = headers['content-length'];
    if (typeof length === 'string') return rest.length >= Number(length) ? { ok: true, status, headers, body: rest.subarray(0, Number(length)) } : undefined;
    return ended ? { ok: true, status, headers, body: rest } : undefined;
  }
}

function dechunk(buf: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol === -1) return undefined;
    const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    if (buf.length < eol + 2 + size + 2) return undefined;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
