// The fast lane: POST /v1/{chat/completions, completions, embeddings} are served straight off
// Node's http server, ahead of Fastify (everything else goes on to Fastify). The hot path needs
// none of the framework — routing is three string compares, the body is read and parsed once —
// and skipping its per-request objects, hooks and logger is most of the gap to a bare proxy.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deps } from '../deps.ts';
import type { Endpoint } from '../providers/openai-compatible/adapter.ts';
import { proxyRequest } from './pipeline.ts';
import { sendError } from './respond.ts';

const ENDPOINTS: Record<string, Endpoint> = {
  '/v1/chat/completions': 'chat/completions',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings',
};
const BODY_LIMIT = 32 * 1024 * 1024;

export type Lane = (req: IncomingMessage, res: ServerResponse) => boolean;

export function fastLane(deps: Deps, onError: (err: unknown) => void): Lane {
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const q = req.url!.indexOf('?');
    const endpoint = ENDPOINTS[q === -1 ? req.url! : req.url!.slice(0, q)];
    if (!endpoint) return false;
    if (deps.inFlight.closing) {
      res.setHeader('connection', 'close');
      sendError(res, 'service_unavailable', 'Tollgate is shutting down; retry on another replica.', {});
      return true;
    }
    const type = req.headers['content-type'];
    if (type !== undefined && !type.includes('json')) {
      req.resume();
      sendError(res, 'invalid_request', 'Content-Type must be application/json.', {});
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= BODY_LIMIT) chunks.push(c);
    });
    req.on('end', () => {
      if (size > BODY_LIMIT) return sendError(res, 'payload_too_large', 'Request body is too large (32 MiB at most).', {});
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        return sendError(res, 'invalid_json', `Request body is not valid JSON: ${(err as Error).message}`, {});
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) return sendError(res, 'invalid_request', 'The request body must be a JSON object.', {});
      const ip = clientIp(req, deps.config.trustProxy);
      deps.inFlight.track(proxyRequest(deps, { endpoint, body: body as Record<string, unknown>, bodyBytes: raw.length, raw, headers: req.headers, ip, res })).catch((err: unknown) => {
        onError(err);
        if (!res.headersSent) sendError(res, 'internal_error', 'Internal error.', {});
        else res.end();
      });
    });
    req.on('error', () => res.destroy());
    return true;
  };
}

/** The caller's address; behind a trusted proxy, the left-most X-Forwarded-For entry. */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? '';
}
