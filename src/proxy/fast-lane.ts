// The fast lane: every client API Tollgate proxies — POST /v1/{chat/completions, completions,
// embeddings, responses, messages, messages/count_tokens} and Gemini's POST
// /v1beta/models/{model}:{generateContent, streamGenerateContent} — is served straight off Node's
// http server, ahead of Fastify (everything else goes on to Fastify). The hot path needs none of
// the framework — routing is one map lookup, the body is read and parsed once — and skipping its
// per-request objects, hooks and logger is most of the gap to a bare proxy.
//
// The key is checked from the headers BEFORE the body is read: an unauthenticated client cannot
// make Tollgate buffer a body (up to the /v1 limit) or hold a connection open with a slow one.
// Refusals before the body discard it unread and close the connection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clientIp } from '../net/client-ip.ts';
import type { Deps } from '../deps.ts';
import { CLIENT_FORMAT, type ClientFormat, type Endpoint } from '../providers/types.ts';
import type { ErrorCode } from '../http/errors.ts';
import type { RequestTrace } from '../observability/request-trace.ts';
import { authenticate, bearer, type AuthOutcome } from './authenticate.ts';
import { checkKey, proxyRequest } from './pipeline.ts';
import { sendError, type HeaderMap } from './respond.ts';

const ENDPOINTS: Record<string, Endpoint> = {
  '/v1/chat/completions': 'chat/completions',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings',
  '/v1/responses': 'responses',
  '/v1/messages': 'messages',
  '/v1/messages/count_tokens': 'messages/count_tokens',
};

/** Gemini's native API names the model in the path: /v1beta/models/{model}:generateContent. */
const GEMINI_PREFIXES = ['/v1beta/models/', '/v1/models/'];

/** A Gemini native call: the model from its path, and whether it streams (…:streamGenerateContent?alt=sse). */
interface GeminiCall { model: string; stream: boolean; sse: boolean }

function geminiCall(path: string, query: string): GeminiCall | undefined {
  const prefix = GEMINI_PREFIXES.find((p) => path.startsWith(p));
  if (!prefix) return undefined;
  const rest = path.slice(prefix.length);
  const colon = rest.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const method = rest.slice(colon + 1);
  if (method !== 'generateContent' && method !== 'streamGenerateContent') return undefined;
  let model: string;
  try {
    model = decodeURIComponent(rest.slice(0, colon));
  } catch {
    return undefined;
  }
  return { model, stream: method === 'streamGenerateContent', sse: new URLSearchParams(query).get('alt') === 'sse' };
}

export type Lane = (req: IncomingMessage, res: ServerResponse) => boolean;

export function fastLane(deps: Deps, onError: (err: unknown) => void, onWarn: (info: Record<string, unknown>, message: string) => void = () => {}): Lane {
  const limit = deps.config.v1BodyLimitBytes;

  const readBody = (req: IncomingMessage, res: ServerResponse, endpoint: Endpoint, gemini: GeminiCall | undefined, auth: AuthOutcome | null, ip: string, now: number, trace: RequestTrace | null): void => {
    const format = CLIENT_FORMAT[endpoint];
    if (trace) trace.authenticated(auth);
    if (!auth) return refuse(req, res, format, 'service_unavailable', 'The key store is unreachable; try again shortly.', { 'retry-after': 1 });
    if (!auth.ok) {
      if (auth.code === 'too_many_auth_failures') {
        const retry = Math.max(1, Math.ceil((deps.authThrottle.blockedUntil(ip, now) - now) / 1000));
        return refuse(req, res, format, auth.code, auth.message, { 'retry-after': retry });
      }
      deps.authThrottle.fail(ip, now);
      return refuse(req, res, format, auth.code, auth.message);
    }
    const refused = checkKey(deps, auth.ctx, endpoint, ip, now);
    if (refused) {
      if (trace) trace.refused(refused.code);
      if (refused.code === 'invalid_api_key') deps.authThrottle.fail(ip, now);
      return refuse(req, res, format, refused.code, refused.message);
    }
    // Gemini streams either as SSE (alt=sse, what its SDKs ask for) or as one growing JSON array;
    // Tollgate meters SSE event by event and does not serve the array form.
    if (gemini && gemini.stream && !gemini.sse) return refuse(req, res, format, 'invalid_request', 'streamGenerateContent is served as server-sent events only: add ?alt=sse to the URL.', {}, 'alt');
    const type = req.headers['content-type'];
    if (type !== undefined && !type.includes('json')) return refuse(req, res, format, 'invalid_request', 'Content-Type must be application/json.', {}, 'content-type');
    const declared = Number(req.headers['content-length']);
    if (declared > limit) return refuse(req, res, format, 'payload_too_large', tooLarge(limit));
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size <= limit) return void chunks.push(c);
      // Over the limit: stop keeping it, answer now, drop the rest unread.
      req.off('data', onData).off('end', onEnd);
      chunks.length = 0;
      refuse(req, res, format, 'payload_too_large', tooLarge(limit));
    };
    const onEnd = (): void => {
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        return sendError(res, 'invalid_json', `Request body is not valid JSON: ${(err as Error).message}`, {}, null, undefined, format);
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) return sendError(res, 'invalid_request', 'The request body must be a JSON object.', {}, null, undefined, format);
      const call = { ctx: auth.ctx, endpoint, body: body as Record<string, unknown>, bodyBytes: raw.length, raw, headers: req.headers, ip, res, trace, warn: onWarn, model: gemini?.model, stream: gemini?.stream };
      deps.inFlight.track(proxyRequest(deps, call)).catch((err: unknown) => {
        onError(err);
        if (!res.headersSent) sendError(res, 'internal_error', 'Internal error.', {}, null, undefined, format);
        else res.end();
      });
    };
    req.on('data', onData).on('end', onEnd);
    req.resume();
  };

  return (req, res) => {
    const q = req.url!.indexOf('?');
    const path = q === -1 ? req.url! : req.url!.slice(0, q);
    let endpoint = ENDPOINTS[path];
    let gemini: GeminiCall | undefined;
    if (!endpoint) {
      if (path.charCodeAt(path.length - 1) === 116 /* t */ && (gemini = geminiCall(path, q === -1 ? '' : req.url!.slice(q + 1)))) endpoint = 'generateContent';
      else return false;
    }
    const format = CLIENT_FORMAT[endpoint];
    if (req.method !== 'POST') {
      refuse(req, res, format, 'method_not_allowed', `${req.method} is not allowed on ${path}; allowed: POST`, { allow: 'POST' });
      return true;
    }
    req.on('error', () => res.destroy());
    if (deps.inFlight.closing) {
      refuse(req, res, format, 'service_unavailable', 'Tollgate is shutting down; retry on another replica.');
      return true;
    }
    // Tracing off: deps.tracing is null and this is all it costs.
    const trace = deps.tracing ? deps.tracing.start(req.headers, res, endpoint) : null;
    const ip = clientIp(req, deps.config.trustProxy);
    const now = deps.clock.now();
    const authed = authenticate(deps, deps.keyCache, bearer(req.headers), now, deps.authThrottle.blockedUntil(ip, now) !== 0);
    if (authed instanceof Promise) {
      req.pause();
      authed.then((a) => readBody(req, res, endpoint, gemini, a, ip, now, trace), () => readBody(req, res, endpoint, gemini, null, ip, now, trace));
    } else readBody(req, res, endpoint, gemini, authed, ip, now, trace);
    return true;
  };
}

const tooLarge = (limit: number): string => `Request body is too large (${limit} bytes at most).`;

/** Answers before (or instead of) reading the body: the rest is discarded unread, the connection closed. */
function refuse(req: IncomingMessage, res: ServerResponse, format: ClientFormat, code: ErrorCode, message: string, headers: HeaderMap = {}, param: string | null = null): void {
  headers.connection = 'close';
  sendError(res, code, message, headers, param, undefined, format);
  req.resume();
}

