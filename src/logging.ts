// Tollgate's log lines (docs/observability.md, "Log lines"): Fastify's logger (pino), one JSON
// object per line on stdout, or the same lines made human-readable when asked
// (TOLLGATE_LOG_FORMAT=pretty) or when stdout is a terminal (auto, the default).
//
// Every line of an /api request carries its request id (also sent back as x-request-id) and, once
// the caller is known, its organization and reference (`user:5`, `admin_key:3`): never a
// credential; and the team and key ids the route's URL names. Request and response bodies are never logged; the request serializer keeps the
// method and the path (a query string can carry an OIDC code or a state), and the headers that
// carry credentials are redacted wherever a line would hold them.
// TOLLGATE_ACCESS_LOG=true adds one line per /api request. /v1 requests are recorded in
// request_logs (GET /api/logs), not here: the fast lane does not go through Fastify.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { actorRef } from './http/actor.ts';

// x-api-key (Anthropic clients), x-goog-api-key (Gemini clients) and api-key (Azure, upstream) carry keys too.
const SECRET_HEADERS = ['authorization', 'cookie', 'set-cookie', 'x-admin-key', 'x-api-key', 'x-goog-api-key', 'api-key', 'x-csrf-token', 'proxy-authorization'];

/** Where a line could hold headers: a request's, a response's, or headers logged on their own. */
export const REDACT_PATHS = ['req', 'res', 'request', 'response', 'headers', '*'].flatMap((at) =>
  SECRET_HEADERS.map((h) => (at === 'headers' ? `headers["${h}"]` : at === '*' ? `*.headers["${h}"]` : `${at}.headers["${h}"]`)),
);

type Out = NodeJS.WritableStream & { isTTY?: boolean };

/** Fastify's `logger` option (pino options and the stream). `out` is stdout but in tests. */
export function loggerOptions(config: Pick<Config, 'logLevel' | 'logFormat'>, out: Out = process.stdout) {
  const pretty = config.logFormat === 'pretty' || (config.logFormat === 'auto' && out.isTTY === true);
  return {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Readable by people and log shippers alike: "level":"info", "time":"2026-…Z".
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    serializers: {
      req: (req: { method?: string; url?: string }) => ({ method: req.method, path: req.url?.split('?')[0] }),
      res: (res: { statusCode?: number }) => ({ status: res.statusCode }),
    },
    stream: pretty ? prettyStream(out, out.isTTY === true) : out,
  };
}

/** Fastify server options for request ids: a UUID per request (logged as REQUEST_ID_LOG_LABEL by the LogController). */
export const requestIdOptions = { genReqId: () => randomUUID() } as const;
/** the request id's key in a log line: the name request_logs gives it */
export const REQUEST_ID_LOG_LABEL = 'request_id';

/**
 * Inside the /api plugin, registered right after the authentication hook: the caller joins every
 * later line of the request, the request id goes back to the client (errors included), and, with
 * the access log on, one line ends each request.
 */
export function registerRequestLogging(api: FastifyInstance, opts: { accessLog: boolean }): void {
  api.addHook('onRequest', async (req) => {
    if (req.actor) req.log = req.log.child({ org_id: req.actor.orgId, actor: actorRef(req.actor), ...targetIds(req.routeOptions.url, req.params) });
  });
  api.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-request-id', req.id);
    return payload;
  });
  if (!opts.accessLog) return;
  api.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, route: req.routeOptions.url ?? req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'api request');
  });
}

/**
 * The team and key a route acts on, from its URL (`/api/teams/:id/keys/:keyId`, `/api/keys/:id`,
 * `/internal/api-keys/:id` with its `ak_` id or a bare number).
 */
export function targetIds(route: string | undefined, params: unknown): { team_id?: number; key_id?: number } {
  const p = (params ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'string' && /^[1-9]\d{0,9}$/.test(v) ? Number(v) : undefined);
  const team = route?.startsWith('/api/teams/:id') ? num(p.id) : undefined;
  const key = p.keyId !== undefined ? num(p.keyId)
    : /^\/api\/(me\/)?keys\/:id/.test(route ?? '') ? num(p.id)
    : route === '/internal/api-keys/:id' && typeof p.id === 'string' ? num(p.id.replace(/^ak_/, ''))
    : undefined;
  return { ...(team !== undefined ? { team_id: team } : {}), ...(key !== undefined ? { key_id: key } : {}) };
}

// ---- human-readable lines ----

const LEVEL_COLOR: Record<string, string> = { trace: '90', debug: '36', info: '32', warn: '33', error: '31', fatal: '35' };
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** One JSON line → `12:34:56.789 INFO  message  key=value …` (colored on a terminal). */
export function formatPretty(line: string, color: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line);
  } catch {
    return line.endsWith('\n') ? line : line + '\n';
  }
  const level = String(o.level ?? 'info');
  const time = typeof o.time === 'string' ? o.time.slice(11, 23) : '';
  const paint = (code: string | undefined, s: string) => (color && code ? `\x1b[${code}m${s}\x1b[0m` : s);
  const fields = Object.entries(o)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${paint('90', k + '=')}${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return `${paint('90', time)} ${paint(LEVEL_COLOR[level], level.toUpperCase().padEnd(5))} ${String(o.msg ?? '')}${fields.length ? '  ' + fields.join(' ') : ''}\n`;
}

function prettyStream(out: Out, color: boolean): Writable {
  let partial = '';
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      const text = partial + chunk.toString();
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) out.write(formatPretty(line, color));
      done();
    },
  });
}
