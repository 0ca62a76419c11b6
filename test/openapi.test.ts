// The OpenAPI document (GET /api/openapi.json): it validates, it lists exactly the registered
// /api routes, each with a summary and tag, create bodies' documented examples are accepted by
// the handlers, and the rendered reference (/api/docs) runs under a strict CSP.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startGateway, type Gateway } from './support/gateway.ts';
import { ERRORS } from '../src/http/errors.ts';

describe('OpenAPI document', () => {
  let gw: Gateway;
  let doc: any;
  before(async () => {
    gw = await startGateway();
    const res = await fetch(gw.url + '/api/openapi.json');
    assert.equal(res.status, 200);
    doc = await res.json();
  });
  after(() => gw.close());

  test('validates as OpenAPI 3.1', async () => {
    assert.equal(doc.openapi, '3.1.0');
    await SwaggerParser.validate(structuredClone(doc));
  });

  test('lists exactly the registered /api and /internal routes', () => {
    const registered = gw.runtime.app.routeTable.filter((r) => r.url.startsWith('/api/') || r.url.startsWith('/internal/')).map((r) => `${r.method} ${r.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    assert.deepEqual([...documented].sort(), [...new Set(registered)].sort());
    assert.equal(documented.length, registered.length, 'one operation per route');
  });

  test('every route declares a summary and a tag', () => {
    const missing = gw.runtime.app.routeTable.filter((r) => (r.url.startsWith('/api/') || r.url.startsWith('/internal/')) && !(r.doc?.summary && r.doc.tag)).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(missing, []);
  });

  test('errors: every registry code, its status and type, in shared responses', () => {
    const listed = Object.values(doc.components.responses as Record<string, any>).flatMap((r) => Object.keys(r.content?.['application/json']?.examples ?? {}));
    assert.deepEqual([...listed].sort(), Object.keys(ERRORS).sort());
    for (const [code, e] of Object.entries(ERRORS)) {
      const name = [400, 401, 403, 404, 409, 429].includes(e.status) ? `Error${e.status}` : 'ErrorOther';
      assert.equal(doc.components.responses[name].content['application/json'].examples[code].value.error.type, e.type, code);
    }
    assert.deepEqual(doc.paths['/api/teams'].post.security.map((s: object) => Object.keys(s).sort().join('+')), ['bearerKey', 'adminKeyHeader', 'csrfToken+sessionCookie']);
    assert.deepEqual(doc.paths['/api/auth/login'].post.security, []);
  });

  test('creates and rotations take an Idempotency-Key', () => {
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        const creates = method === 'post' && (op.responses['201'] !== undefined || path.endsWith('/rotate'));
        const takes = (op.parameters ?? []).some((p: any) => p.$ref === '#/components/parameters/IdempotencyKey');
        assert.equal(takes, creates, `${method} ${path}`);
        if (creates && !path.endsWith('/rotate')) assert.ok(op.requestBody, `${method} ${path} documents its body`);
      }
    }
  });

  // The documented example of each create is accepted; leaving out a field the document says is
  // required is refused naming that field: the document's `required` is the handler's.
  const CREATES: Array<[string, (gw: Gateway) => Promise<string>]> = [
    ['/api/teams', async () => '/api/teams'],
    ['/api/keys', async () => '/api/keys'],
    ['/api/teams/{id}/keys', async (g) => `/api/teams/${(await g.api('POST', '/api/teams', { name: 'Doc keys' })).body.id}/keys`],
    ['/api/teams/{id}/service-accounts', async (g) => `/api/teams/${(await g.api('POST', '/api/teams', { name: 'Doc sa' })).body.id}/service-accounts`],
    ['/api/access-groups', async () => '/api/access-groups'],
    ['/api/users', async () => '/api/users'],
    ['/api/management-keys', async () => '/api/management-keys'],
    ['/api/invitations', async () => '/api/invitations'],
    ['/internal/teams', async () => '/internal/teams'],
    ['/internal/users', async () => '/internal/users'],
    ['/internal/api-keys', async () => '/internal/api-keys'],
  ];
  for (const [path, url] of CREATES) {
    test(`POST ${path}: the documented example is accepted, each required field is required`, async () => {
      const media = doc.paths[path].post.requestBody.content['application/json'];
      assert.ok(media.example, 'has an example');
      const target = await url(gw);
      const res = await gw.api('POST', target, media.example);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      for (const field of media.schema.required ?? []) {
        const { [field]: _, ...without } = media.example;
        const refused = await gw.api('POST', target, without);
        assert.equal(refused.status, 400, `${field}: ${JSON.stringify(refused.body)}`);
        assert.equal(refused.body.error.param, field);
      }
    });
  }

  test('the teams create body: the fields and required ones the handler validates', () => {
    const schema = doc.paths['/api/teams'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(schema.required, ['name']);
    assert.equal(schema.additionalProperties, false);
    for (const f of ['name', 'slug', 'tpm_limit', 'daily_token_limit', 'max_budget_usd', 'models']) assert.ok(schema.properties[f], f);
  });

  test('/api/docs: the reference, rendered without script under a strict CSP', async () => {
    const res = await fetch(gw.url + '/api/docs');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /style-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    const html = await res.text();
    assert.doesNotMatch(html, /<script|\son[a-z]+=|style=/i);
    for (const ops of Object.values(doc.paths as Record<string, Record<string, any>>)) for (const op of Object.values(ops)) assert.ok(html.includes(`id="${op.operationId}"`), op.operationId);
    const css = await fetch(gw.url + '/api/docs/style.css');
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
  });

  test('operation ids are unique', () => {
    const ids = Object.values(doc.paths as Record<string, Record<string, any>>).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    assert.equal(new Set(ids).size, ids.length);
  });
});
