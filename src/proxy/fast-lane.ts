// The fast lane: POST /v1/{chat/completions, completions, embeddings} are served straight off
// Node's http server, ahead of Fastify (everything else goes on to Fastify). The hot path needs
// none of the framework — routing is three string compares, the body is read and parsed once —
// and skipping its per-request objects, hooks and logger is most of the gap to a bare proxy.
//
// The key is checked from the headers BEFORE the body is read: an unauthenticated client cannot
// make Tollgate buffer a body (up to the /v1 limit) or hold a connection open with a slow one.
// Refusals before the body discard it unread and close the connection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientIp } from '../net/client-ip.ts';
import type { Deps } from '../deps.ts';
import type { Endpoint } from '../providers/openai-compatible/adapter.ts';
import type { ErrorCode } from '../http/errors.ts';
import type { RequestTrace } from '../observability/request-trace.ts';
import { authenticate, bearer, type AuthOutcome } from './authenticate.ts';
import { checkKey, proxyRequest } from './pipeline.ts';
import { sendError, type HeaderMap } from './respond.ts';

const ENDPOINTS: Record<string, Endpoint> = {
  '/v1/chat/completions': 'chat/completions',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings',
};

export type Lane = (req: IncomingMessage, res: ServerResponse) => boolean;

export function fastLane(deps: Deps, onError: (err: unknown) => void): Lane {
  const limit = deps.config.v1BodyLimitBytes;

  const readBody = (req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, auth: AuthOutcome | null, ip: string, now: number, trace: RequestTrace | null): void => {
    if (trace) trace.authenticated(auth);
    if (!auth) return refuse(req, res, 'service_unavailable', 'The key store is unreachable; try again shortly.', { 'retry-after': 1 });
    if (!auth.ok) {
      if (auth.code === 'too_many_auth_failures') {
        const retry = Math.max(1, Math.ceil((deps.authThrottle.blockedUntil(ip, now) - now) / 1000));
        return refuse(req, res, auth.code, auth.message, { 'retry-after': retry });
      }
      deps.authThrottle.fail(ip, now);
      return refuse(req, res, auth.code, auth.message);
    }
    const refused = checkKey(deps, auth.ctx, endpoint, ip, now);
    if (refused) {
      if (trace) trace.refused(refused.code);
      if (refused.code === 'invalid_api_key') deps.authThrottle.fail(ip, now);
      return refuse(req, res, refused.code, refused.message);
    }
    const type = req.headers['content-type'];
    if (type !== undefined && !type.includes('json')) return refuse(req, res, 'invalid_request', 'Content-Type must be application/json.', {}, 'content-type');
    const declared = Number(req.headers['content-length']);
    if (declared > limit) return refuse(req, res, 'payload_too_large', tooLarge(limit));
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size <= limit) return void chunks.push(c);
      // Over the limit: stop keeping it, answer now, drop the rest unread.
      req.off('data', onData).off('end', onEnd);
      chunks.length = 0;
      refuse(req, res, 'payload_too_large', tooLarge(limit));
    };
    const onEnd = (): void => {
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        return sendError(res, 'invalid_json', `Request body is not valid JSON: ${(err as Error).message}`, {});
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) return sendError(res, 'invalid_request', 'The request body must be a JSON object.', {});
      deps.inFlight.track(proxyRequest(deps, { ctx: auth.ctx, endpoint, body: body as Record<string, unknown>, bodyBytes: raw.length, raw, headers: req.headers, ip, res, trace })).catch((err: unknown) => {
        onError(err);
        if (!res.headersSent) sendError(res, 'internal_error', 'Internal error.', {});
        else res.end();
      });
    };
    req.on('data', onData).on('end', onEnd);
    req.resume();
  };

  return (req, res) => {
    const q = req.url!.indexOf('?');
    const endpoint = ENDPOINTS[q === -1 ? req.url! : req.url!.slice(0, q)];
    if (!endpoint) return false;
    if (req.method !== 'POST') {
      refuse(req, res, 'method_not_allowed', `${req.method} is not allowed on ${req.url!.slice(0, q === -1 ? undefined : q)}; allowed: POST`, { allow: 'POST' });
      return true;
    }
    req.on('error', () => res.destroy());
    if (deps.inFlight.closing) {
      refuse(req, res, 'service_unavailable', 'Tollgate is shutting down; retry on another replica.');
      return true;
    }
    // Tracing off: deps.tracing is null and this is all it costs.
    const trace = deps.tracing ? deps.tracing.start(req.headers, res, endpoint) : null;
    const ip = clientIp(req, deps.config.trustProxy);
    const now = deps.clock.now();
    const authed = authenticate(deps, deps.keyCache, bearer(req.headers), now, deps.authThrottle.blockedUntil(ip, now) !== 0);
    if (authed instanceof Promise) {
      req.pause();
      authed.then((a) => readBody(req, res, endpoint, a, ip, now, trace), () => readBody(req, res, endpoint, null, ip, now, trace));
    } else readBody(req, res, endpoint, authed, ip, now, trace);
    return true;
  };
}

const tooLarge = (limit: number): string => `Request body is too large (${limit} bytes at most).`;

/** Answers before (or instead of) reading the body: the rest is discarded unread, the connection closed. */
function refuse(req: IncomingMessage, res: ServerResponse, code: ErrorCode, message: string, headers: HeaderMap = {}, param: string | null = null): void {
  headers.connection = 'close';
  sendError(res, code, message, headers, param);
  req.resume();
}

