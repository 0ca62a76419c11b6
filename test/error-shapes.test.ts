// Every answer, including the ones the framework or Node's HTTP parser gives before any route,
// is in OpenAI's error shape with a code from the registry (docs/api.md#errors).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_KEY, startGateway, type Gateway } from './support/gateway.ts';
import { rawHttp, type RawResponse } from './support/raw-http.ts';
import { ERRORS, type ErrorCode } from '../src/http/errors.ts';

/** The status matches the registered code's, and the body is exactly OpenAI's error shape. */
function assertShape(res: RawResponse, code: ErrorCode, what: string): { message: string; param: string | null } {
  assert.equal(res.status, ERRORS[code].status, `${what}: status\n${res.raw.slice(0, 400)}`);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/, `${what}: content-type`);
  let body: any;
  assert.doesNotThrow(() => (body = JSON.parse(res.body)), `${what}: JSON body\n${res.raw.slice(0, 400)}`);
  assert.deepEqual(Object.keys(body), ['error'], what);
  const e = body.error;
  assert.equal(e.code, code, `${what}: ${e.message}`);
  assert.equal(e.type, ERRORS[code].type, what);
  assert.equal(typeof e.message, 'string', what);
  assert.ok(e.param === null || typeof e.param === 'string', what);
  assert.ok(!/FST_ERR|statusCode/.test(res.body), `${what}: no framework internals in the body: ${res.body}`);
  return e;
}

const CLOSE = 'Connection: close\r\n';
const AUTH = `X-Admin-Key: ${ADMIN_KEY}\r\n`;
const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${AUTH}${extra}${CLOSE}\r\n`;
const post = (path: string, headers: string, body: string) => `POST ${path} HTTP/1.1\r\nHost: t\r\n${AUTH}${headers}Content-Length: ${Buffer.byteLength(body)}\r\n${CLOSE}\r\n${body}`;

describe('error shapes: every failure, at every layer', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw?.close());

  const cases: Array<[what: string, request: () => string, code: ErrorCode, check?: (e: { message: string }, res: RawResponse) => void]> = [
    // The router (Fastify's own errors before any route runs)
    ['bad percent-encoding in the path', () => get('/api/teams/%ff%fe'), 'invalid_request'],
    ['a path parameter over 100 characters', () => get(`/api/teams/${'1'.repeat(200)}`), 'uri_too_long'],
    ['NUL percent-encoded in a path id', () => get('/api/teams/%00'), 'not_found'],
    ['an unknown path', () => get('/api/nothing-here'), 'not_found'],
    ['an unknown /v1 path', () => get('/v1/nothing-here'), 'not_found'],
    ['a method the path does not have', () => `PROPFIND /api/teams HTTP/1.1\r\nHost: t\r\n${AUTH}${CLOSE}\r\n`, 'method_not_allowed', (_e, res) => assert.equal(res.headers.allow, 'GET, HEAD, POST')],
    ['OPTIONS on a known path', () => `OPTIONS /api/teams/1/keys HTTP/1.1\r\nHost: t\r\n${AUTH}${CLOSE}\r\n`, 'method_not_allowed', (_e, res) => assert.equal(res.headers.allow, 'GET, HEAD, POST')],
    ['DELETE on a collection', () => `DELETE /api/teams HTTP/1.1\r\nHost: t\r\n${AUTH}${CLOSE}\r\n`, 'method_not_allowed'],
    // Content type and body (/api answers 400 like /v1, naming the type it got)
    ['a JSON body without Content-Type', () => post('/api/teams', '', '{"name":"x"}'), 'invalid_request', (e) => assert.match(e.message, /Content-Type must be application\/json \(got none\)/)],
    ['a text/plain body', () => post('/api/teams', 'Content-Type: text/plain\r\n', '{"name":"x"}'), 'invalid_request', (e) => assert.match(e.message, /got text\/plain/)],
    ['a form body', () => post('/api/teams', 'Content-Type: application/x-www-form-urlencoded\r\n', 'name=x'), 'invalid_request'],
    ['invalid JSON', () => post('/api/teams', 'Content-Type: application/json\r\n', '{"name":'), 'invalid_json'],
    ['a declared body over the limit', () => `POST /api/teams HTTP/1.1\r\nHost: t\r\n${AUTH}Content-Type: application/json\r\nContent-Length: ${40 * 1024 * 1024}\r\n${CLOSE}\r\n{}`, 'payload_too_large'],
    // Node's HTTP parser, before Fastify (the server's clientError)
    ['a query string over 16 KiB (/api)', () => get(`/api/teams?q=${'a'.repeat(20_000)}`), 'headers_too_large'],
    ['a query string over 16 KiB (/v1)', () => get(`/v1/models?q=${'a'.repeat(20_000)}`), 'headers_too_large'],
    ['a path of 100 KB', () => get(`/api/${'a'.repeat(100_000)}`), 'headers_too_large'],
    ['3,000 headers', () => get('/api/teams', Array.from({ length: 3000 }, (_, i) => `x-h${i}: 1\r\n`).join('')), 'headers_too_large'],
    ['a raw NUL byte in the path', () => get('/api/teams/\0'), 'invalid_request'],
    ['an invalid method token', () => `G@T /api/teams HTTP/1.1\r\nHost: t\r\n${CLOSE}\r\n`, 'invalid_request'],
    ['an invalid header name', () => get('/api/teams', 'Bad Header: x\r\n'), 'invalid_request'],
    ['a control character in a header value', () => get('/api/teams', 'X-Thing: a\x01b\r\n'), 'invalid_request'],
    ['two Content-Length headers', () => `POST /api/teams HTTP/1.1\r\nHost: t\r\n${AUTH}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n${CLOSE}\r\n{}`, 'invalid_request'],
    ['Content-Length with chunked encoding', () => `POST /api/teams HTTP/1.1\r\nHost: t\r\n${AUTH}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n${CLOSE}\r\n0\r\n\r\n`, 'invalid_request'],
    ['a malformed chunk size', () => `POST /api/teams HTTP/1.1\r\nHost: t\r\n${AUTH}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n${CLOSE}\r\nzz\r\n`, 'invalid_request'],
    ['an unknown HTTP version', () => `GET /api/teams HTTP/3.7\r\nHost: t\r\n${CLOSE}\r\n`, 'invalid_request'],
    ['an HTTP/2 preface on the HTTP/1 port', () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'invalid_request'],
    ['TLS bytes on the plain port', () => '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n', 'invalid_request'],
    // What Node itself would answer with an empty body
    ['HTTP/1.1 without Host', () => `GET /api/teams HTTP/1.1\r\n${AUTH}${CLOSE}\r\n`, 'invalid_request', (e) => assert.match(e.message, /Host/)],
    ['an Expect other than 100-continue', () => `POST /api/teams HTTP/1.1\r\nHost: t\r\n${AUTH}Expect: 200-ok\r\nContent-Type: application/json\r\nContent-Length: 2\r\n${CLOSE}\r\n{}`, 'expectation_failed'],
    ['CONNECT', () => 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 'method_not_allowed'],
  ];

  for (const [what, request, code, check] of cases) {
    test(what, async () => {
      const res = await rawHttp(gw.url, request());
      const e = assertShape(res, code, what);
      check?.(e, res);
    });
  }

  test('HEAD answers with the status and headers of GET, and no body', async () => {
    const ok = await rawHttp(gw.url, `HEAD /api/teams HTTP/1.1\r\nHost: t\r\n${AUTH}${CLOSE}\r\n`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body, '');
    const missing = await rawHttp(gw.url, `HEAD /api/nothing-here HTTP/1.1\r\nHost: t\r\n${AUTH}${CLOSE}\r\n`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body, '');
    assert.match(missing.headers['content-type'] ?? '', /^application\/json/);
  });

  test('while draining for shutdown, requests on open connections get 503 in the error shape', async () => {
    gw.runtime.deps.inFlight.closing = true;
    try {
      assertShape(await rawHttp(gw.url, get('/api/teams')), 'service_unavailable', 'draining');
      assertShape(await rawHttp(gw.url, get('/readyz')), 'service_unavailable', 'draining /readyz');
    } finally {
      gw.runtime.deps.inFlight.closing = false;
    }
  });

  test('a keep-alive connection still works after an error answered by a route', async () => {
    const twice = `GET /api/teams/%ff HTTP/1.1\r\nHost: t\r\n${AUTH}\r\n` + get('/api/teams');
    const res = await rawHttp(gw.url, twice);
    assert.equal(res.status, 400);
    assert.match(res.raw, /HTTP\/1\.1 200 OK[\s\S]*"data":\[\]/);
  });
});
