// Errors in the client's own wire format: an OpenAI SDK gets OpenAI's error body, the Anthropic SDK
// (Claude Code) Anthropic's, the Gemini SDK Google's — each SDK raises its own typed error from it.
// Tollgate's stable code (http/errors.ts) stays in every shape so logs, tests and people can tell
// refusals apart: OpenAI `error.code`, Anthropic `error.code` (an extra field its SDK ignores),
// Gemini `error.details[].reason` (google.rpc.ErrorInfo, Google's place for a machine-readable cause).
import { errorBody, ERRORS, type ErrorCode } from '../http/errors.ts';
import type { ClientFormat } from '../providers/types.ts';

/** https://docs.anthropic.com/en/api/errors: the error type by HTTP status. */
function anthropicType(status: number): string {
  switch (status) {
    case 400: case 405: case 408: case 409: case 414: case 415: case 422: case 431: return 'invalid_request_error';
    case 401: return 'authentication_error';
    case 402: return 'billing_error';
    case 403: return 'permission_error';
    case 404: return 'not_found_error';
    case 413: return 'request_too_large';
    case 429: return 'rate_limit_error';
    case 503: case 529: return 'overloaded_error';
    default: return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** https://ai.google.dev/gemini-api/docs/troubleshooting: the google.rpc status by HTTP status. */
function googleStatus(status: number): string {
  switch (status) {
    case 400: case 405: case 413: case 414: case 415: case 422: case 431: return 'INVALID_ARGUMENT';
    case 401: return 'UNAUTHENTICATED';
    case 403: return 'PERMISSION_DENIED';
    case 404: return 'NOT_FOUND';
    case 408: case 504: return 'DEADLINE_EXCEEDED';
    case 409: return 'ABORTED';
    case 429: return 'RESOURCE_EXHAUSTED';
    case 503: return 'UNAVAILABLE';
    default: return status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION';
  }
}

/** The error body for `format`, with `status` (the HTTP status the client gets). */
export function clientErrorBody(format: ClientFormat, code: ErrorCode | string, message: string, status: number, param: string | null = null, extra?: Record<string, unknown>): unknown {
  if (format === 'anthropic') return { type: 'error', error: { type: anthropicType(status), message, code, ...(param === null ? {} : { param }), ...extra } };
  if (format === 'gemini') {
    const metadata: Record<string, string> = {};
    if (param !== null) metadata.param = param;
    if (extra) for (const k in extra) if (extra[k] !== null && extra[k] !== undefined) metadata[k] = typeof extra[k] === 'string' ? extra[k] : JSON.stringify(extra[k]);
    return { error: { code: status, message, status: googleStatus(status), details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, domain: 'tollgate', metadata }] } };
  }
  if (code in ERRORS) return errorBody(code as ErrorCode, message, param, extra);
  return { error: { message, type: status >= 500 ? 'upstream_error' : 'invalid_request_error', code, param, ...extra } };
}

/**
 * The error event that ends a stream that cannot complete, in the client's streaming format:
 * OpenAI chat `data: {"error": …}`; Responses `event: error` (its `error` member makes the openai
 * SDK raise an APIError too); Anthropic `event: error`; Gemini `data: {"error": …}`.
 */
export function streamErrorEvent(format: ClientFormat, responses: boolean, code: ErrorCode, message: string, status: number): string {
  if (format === 'anthropic') return `event: error\ndata: ${JSON.stringify(clientErrorBody('anthropic', code, message, status))}\n\n`;
  if (format === 'gemini') return `data: ${JSON.stringify(clientErrorBody('gemini', code, message, status))}\n\n`;
  const body = errorBody(code, message);
  if (responses) return `event: error\ndata: ${JSON.stringify({ type: 'error', code, message, param: null, error: body.error })}\n\n`;
  return `data: ${JSON.stringify(body)}\n\n`;
}
