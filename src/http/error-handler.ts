// One place that turns anything thrown in a route — and every failure Fastify itself answers
// (bad URL encoding, an over-long path parameter, the content type, the body) — into an
// OpenAI-shaped error with a code from the registry. Failures of the HTTP parser, before any
// route, are answered in the same shape by http/client-errors.ts.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type ErrorCode } from './errors.ts';

/** A header value echoed in an error message, cut short: it is the client's text. */
export const echo = (value: string | undefined, max = 100): string => (value === undefined ? 'none' : value.length > max ? `${value.slice(0, max)}…` : value);

/** Fastify's own error codes that we answer with a message of ours (theirs echo the whole path). */
function known(err: FastifyError, req: FastifyRequest): ApiError | undefined {
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return new ApiError('invalid_request', 'The request path is not valid percent-encoded UTF-8.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError('uri_too_long', 'A path segment is too long (100 characters at most).');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      // 400 as on /v1 (not 415): the request is wrong, in the same way, on both surfaces.
      return new ApiError('invalid_request', `Content-Type must be application/json (got ${echo(req.headers['content-type'])}).`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('payload_too_large', 'Request body is too large.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('invalid_json', 'Request body is empty but Content-Type says JSON.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('invalid_request', 'Content-Length does not match the body sent.');
    default:
      return undefined;
  }
}

/** Any other client error Fastify raises, by status; anything else is a bug (500). */
const BY_STATUS: Partial<Record<number, ErrorCode>> = { 400: 'invalid_request', 404: 'not_found', 405: 'method_not_allowed', 408: 'request_timeout', 413: 'payload_too_large', 414: 'uri_too_long', 415: 'invalid_request', 431: 'headers_too_large' };

export function toApiError(err: Error, req: FastifyRequest): ApiError | undefined {
  if (err instanceof ApiError) return err;
  const fe = err as FastifyError;
  const mapped = known(fe, req);
  if (mapped) return mapped;
  const code = fe.statusCode === undefined ? undefined : BY_STATUS[fe.statusCode];
  return code ? new ApiError(code, fe.message) : undefined;
}

function send(reply: FastifyReply, err: ApiError): FastifyReply {
  return reply.code(err.status).send(err.toBody());
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError | Error, req, reply) => {
    const api = toApiError(err, req);
    if (api) return send(reply, api);
    req.log.error({ err: { message: err.message, stack: err.stack } }, 'unhandled error');
    return send(reply, new ApiError('internal_error', 'Internal error.'));
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]!;
    const allowed = allowedMethods(app.routeTable, path);
    if (allowed.length > 0) {
      return send(reply.header('allow', allowed.join(', ')), new ApiError('method_not_allowed', `${req.method} is not allowed on ${echo(path, 200)}; allowed: ${allowed.join(', ')}`));
    }
    return send(reply, new ApiError('not_found', `No route for ${req.method} ${echo(path, 200)}`));
  });
}

/** Fastify's option for errors raised before routing (FST_ERR_BAD_URL, FST_ERR_MAX_PARAM_LENGTH). */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  send(reply, toApiError(err, req) ?? new ApiError('invalid_request', err.message));
}

/**
 * The methods registered for a concrete path (`:param` segments match any one segment), for a
 * 405 with `Allow` instead of a 404 when only the method is wrong. Runs only on the 404 path.
 */
export function allowedMethods(routes: ReadonlyArray<{ method: string; url: string }>, path: string): string[] {
  const segments = path.split('/');
  const methods = new Set<string>();
  for (const r of routes) {
    const pattern = r.url.split('/');
    if (pattern.length !== segments.length) continue;
    if (pattern.every((p, i) => (p.startsWith(':') ? segments[i] !== '' : p === segments[i]))) methods.add(r.method);
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}
