// What an upstream's answer becomes when it is not the success forward() relays: an error answer
// relayed as it is or mapped to a gateway error (and what it is logged as), and the check that a
// 200 answer is a whole JSON object. Used by forward.ts.
import type { ServerResponse } from 'node:http';
import type { ForwardResult } from './forward.ts';
import { sendError, sendJson, type HeaderMap } from './respond.ts';
import type { ClientFormat, ProviderAdapter } from '../providers/types.ts';
import type { ErrorCode } from '../http/errors.ts';

// Upstream statuses relayed as they are (the client's request was at fault, or the provider is
// rate limiting); anything else from the provider is a gateway failure (502), including 401/403
// (the organization's credential was refused: never the client's fault, never its key).
const RELAYED = new Set([400, 404, 409, 413, 415, 422, 429]);
// The same statuses, told in another format than the provider's: the client's error with that status.
const RELAYED_AS: Record<number, ErrorCode> = { 400: 'invalid_request', 409: 'conflict', 413: 'payload_too_large', 415: 'invalid_request', 422: 'invalid_request', 429: 'rate_limit_exceeded' };

/** Where an upstream error goes: the client's format, and whether the upstream speaks it too. */
export interface ErrorTarget {
  format: ClientFormat;
  /** the upstream answers in the client's format (a passthrough): its error body is relayed as is */
  native: boolean;
  adapter: ProviderAdapter;
}

/** What an upstream error answer is logged as, and how the client is answered (after logging). */
export function relayError(res: ServerResponse, status: number, text: string, headers: HeaderMap, to: ErrorTarget): { result: ForwardResult; reply: () => void } {
  if (to.adapter.normalizeError) ({ status, text } = to.adapter.normalizeError(status, text));
  const upstreamMessage = to.adapter.errorMessage(status, text);
  const message = upstreamMessage ?? `HTTP ${status}`;
  const failed = (logged: number, errorCode: string) => ({ status: logged, usage: undefined, estimated: false, errorCode, streamed: false });
  if (RELAYED.has(status) && upstreamMessage !== undefined) {
    if (to.native) return { result: failed(status, 'upstream_' + status), reply: () => sendJson(res, status, text, headers) };
    const code = RELAYED_AS[status];
    if (code) return { result: failed(status, 'upstream_' + status), reply: () => sendError(res, code, message, headers, null, undefined, to.format) };
  }
  if (status === 404) {
    return { result: failed(status, 'model_not_found'), reply: () => sendError(res, 'model_not_found', `The upstream provider does not know this model: ${message}`, headers, 'model', undefined, to.format) };
  }
  const why = status === 401 || status === 403 ? 'rejected the gateway credential' : `failed with HTTP ${status}`;
  return { result: failed(502, 'upstream_' + status), reply: () => sendError(res, 'upstream_error', `The upstream provider ${why}: ${message}`, headers, null, { upstream_status: status }, to.format) };
}

/** A cheap check that a 200 answer is a whole JSON object (not cut short, not an HTML page). */
export function looksLikeJsonObject(buf: Buffer): boolean {
  let i = 0;
  let j = buf.length - 1;
  while (i <= j && (buf[i] === 32 || buf[i] === 10 || buf[i] === 13 || buf[i] === 9)) i++;
  while (j >= i && (buf[j] === 32 || buf[j] === 10 || buf[j] === 13 || buf[j] === 9)) j--;
  return buf[i] === 123 && buf[j] === 125;
}
