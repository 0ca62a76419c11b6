// Requests Node's HTTP parser refuses before any route — or Fastify — sees them: a request line
// plus headers over 16 KiB (431), malformed HTTP (400), headers or body not received within the
// server's timeouts (408), an unknown `Expect` (417), CONNECT (405), HTTP/1.1 without Host (400).
// Node answers those with an empty body and Fastify with its own shape; Tollgate answers them in
// OpenAI's error shape with a registered code, like every other error (docs/api.md#errors).
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBody, ERRORS, type ErrorCode } from './errors.ts';

interface ParserError extends Error {
  code?: string;
  /** llhttp's short description, e.g. "Invalid header value char" */
  reason?: string;
}

function classify(err: ParserError): { code: ErrorCode; message: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'headers_too_large', message: 'The request line and headers are too large (16 KiB at most, the query string included).' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'request_timeout', message: 'The request was not received in time (headers or body too slow).' };
    default: {
      const why = typeof err.reason === 'string' ? `: ${err.reason}` : '';
      return { code: 'invalid_request', message: `Malformed HTTP request${why} (${err.code ?? 'parse error'}).` };
    }
  }
}

/** A complete HTTP/1.1 error response, for a socket no ServerResponse owns. */
export function rawErrorResponse(code: ErrorCode, message: string, extraHeaders = ''): string {
  const body = JSON.stringify(errorBody(code, message));
  const status = ERRORS[code].status;
  return `HTTP/1.1 ${status} ${statusText(status)}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extraHeaders}connection: close\r\n\r\n${body}`;
}

const statusText = (status: number): string => ({ 400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 417: 'Expectation Failed', 431: 'Request Header Fields Too Large' })[status] ?? 'Error';

/** The server's 'clientError' listener (Fastify's `clientErrorHandler` option). */
export function onClientError(err: ParserError, socket: Duplex): void {
  // A reset connection has no one left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // Write only where no response has started on this socket: a response already under way (a
  // timeout can strike while a request is answered) must not get a second one spliced into it.
  const current = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && !current?.headersSent) {
    const { code, message } = classify(err);
    socket.write(rawErrorResponse(code, message));
  }
  socket.destroy();
}

/** An error response written on the raw Node response (Connection: close). */
export function sendJson(res: ServerResponse, code: ErrorCode, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(errorBody(code, message));
  res.writeHead(ERRORS[code].status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close', ...headers });
  res.end(body);
}

/** What Node would otherwise answer with an empty body, answered in OpenAI's shape. */
export function answerServerLevelErrors(server: Server): void {
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    sendJson(res, 'expectation_failed', `Expect: ${String(req.headers.expect).slice(0, 100)} is not supported (only 100-continue).`);
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    if (socket.writable) socket.write(rawErrorResponse('method_not_allowed', 'CONNECT is not supported: Tollgate is not a proxy for arbitrary hosts.'));
    socket.destroy();
  });
}

/** HTTP/1.1 requires Host (RFC 9112 §3.2); Node's own refusal has no body. */
export function refuseMissingHost(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.headers.host !== undefined || req.httpVersionMinor !== 1 || req.httpVersionMajor !== 1) return false;
  sendJson(res, 'invalid_request', 'HTTP/1.1 requests need a Host header.');
  return true;
}
