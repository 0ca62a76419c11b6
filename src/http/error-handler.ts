// One place that turns anything thrown in a route into an OpenAI-shaped error response.
import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError, errorBody } from './errors.ts';

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError | Error, req, reply) => {
    if (err instanceof ApiError) return reply.code(err.status).send(err.toBody());
    const fe = err as FastifyError;
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send(errorBody('invalid_request', 'Content-Type must be application/json.'));
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send(errorBody('payload_too_large', 'Request body is too large.'));
    if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.statusCode === 400) {
      return reply.code(400).send(errorBody('invalid_json', `Request body is not valid JSON: ${fe.message}`));
    }
    req.log.error({ err: { message: err.message, stack: err.stack } }, 'unhandled error');
    return reply.code(500).send(errorBody('internal_error', 'Internal error.'));
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(errorBody('not_found', `No route for ${req.method} ${req.url.split('?')[0]}`));
  });
}
