// Writing /v1 responses straight to Node's ServerResponse: errors in the client's format, rate headers.
import type { ServerResponse } from 'node:http';
import { errorBody, ERRORS, type ErrorCode } from '../http/errors.ts';
import type { RateHeaders } from '../policy/admission.ts';
import type { ClientFormat } from '../providers/types.ts';
import { clientErrorBody } from './client-errors.ts';

export type HeaderMap = Record<string, string | number>;

export function rateLimitHeaders(h: RateHeaders, out: HeaderMap = {}): HeaderMap {
  if (h.limitRequests !== undefined) {
    out['x-ratelimit-limit-requests'] = h.limitRequests;
    out['x-ratelimit-remaining-requests'] = Math.max(0, h.remainingRequests ?? 0);
    out['x-ratelimit-reset-requests'] = `${Math.max(0, Math.ceil((h.resetRequestsMs ?? 0) / 1000))}s`;
  }
  if (h.limitTokens !== undefined) {
    out['x-ratelimit-limit-tokens'] = h.limitTokens;
    out['x-ratelimit-remaining-tokens'] = Math.max(0, h.remainingTokens ?? 0);
    out['x-ratelimit-reset-tokens'] = `${Math.max(0, Math.ceil((h.resetTokensMs ?? 0) / 1000))}s`;
  }
  return out;
}

/** Sends a JSON body. `headers` belongs to the request being answered: it is completed in place. */
export function sendJson(res: ServerResponse, status: number, body: string | Buffer, headers: HeaderMap): void {
  if (res.headersSent || res.destroyed) return;
  headers['content-type'] = 'application/json';
  headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  res.writeHead(status, headers);
  res.end(body);
}

/** An error in the client's format (OpenAI's unless said otherwise). */
export function sendError(res: ServerResponse, code: ErrorCode, message: string, headers: HeaderMap, param: string | null = null, extra?: Record<string, unknown>, format: ClientFormat = 'openai'): void {
  const status = ERRORS[code].status;
  sendJson(res, status, JSON.stringify(format === 'openai' ? errorBody(code, message, param, extra) : clientErrorBody(format, code, message, status, param, extra)), headers);
}
