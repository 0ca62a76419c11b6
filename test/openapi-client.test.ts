// The dashboard's client is generated from /api/openapi.json (scripts/openapi-client.ts): every
// operation of the document becomes one typed function, and schemas become the TypeScript types
// a person would write by hand. (The generated module is typechecked with the dashboard in CI:
// `tsc -p ui/tsconfig.json`.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateClient, tsType } from '../scripts/openapi-client.ts';
import { withThrowawayApp } from '../scripts/throwaway-app.ts';
import type { OpenApiDocument } from '../src/http/openapi.ts';

test('JSON Schema → TypeScript: what zod emits', () => {
  assert.equal(tsType({ type: 'string' }), 'string');
  assert.equal(tsType({ type: 'integer', minimum: 1 }), 'number');
  assert.equal(tsType({ type: ['string', 'null'] }), 'string | null');
  assert.equal(tsType({ anyOf: [{ type: 'number' }, { type: 'null' }] }), 'number | null');
  assert.equal(tsType({ enum: ['daily', 'monthly'] }), '"daily" | "monthly"');
  assert.equal(tsType({ const: 'x' }), '"x"');
  assert.equal(tsType({ type: 'array', items: { type: 'string' } }), 'string[]');
  assert.equal(tsType({ type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'null' }] } }), 'Array<string | null>');
  assert.equal(tsType({ type: 'object', additionalProperties: { type: 'number' } }), '{\n  [key: string]: number;\n}');
  assert.equal(
    tsType({ type: 'object', properties: { id: { type: 'integer' }, 'team-id': { type: 'integer', description: 'the team' } }, required: ['id'] }),
    '{\n  id: number;\n  /** the team */\n  "team-id"?: number;\n}',
  );
  assert.equal(tsType({ $ref: '#/$defs/Limits' }), 'Def_Limits');
  assert.equal(tsType({}), 'unknown', 'an empty schema promises nothing');
  assert.equal(tsType({ type: 'weird' }), 'unknown', 'never a guess');
});

test('the client has one function per operation of the real document, typed from its schemas', async () => {
  const doc = await withThrowawayApp(async (app) => JSON.parse((await app.inject({ method: 'GET', url: '/api/openapi.json' })).body) as OpenApiDocument);
  const source = generateClient(doc);
  const ops = Object.values(doc.paths).flatMap((m) => Object.values(m)).map((op) => op.operationId);
  assert.ok(ops.length > 90);
  assert.equal(new Set(ops).size, ops.length, 'operation ids are unique');
  for (const id of ops) assert.match(source, new RegExp(`^  ${id}: \\(args: `, 'm'), id);
  // a path parameter, a query, a body and a declared response, as types
  assert.match(source, /export interface PostTeamsByIdKeysPath \{ id: number; \}/);
  assert.match(source, /postTeamsByIdKeys: \(args: \{ path: PostTeamsByIdKeysPath; body: PostTeamsByIdKeysBody; options\?: CallOptions \}\)/);
  assert.match(source, /export type PostTeamsResponse = \{\n  id: number;/);
  assert.match(source, /getLogs: \(args: \{ query\?: GetLogsQuery; options\?: CallOptions \} = \{\}\)/);
  assert.match(source, /call\('DELETE', '\/api\/keys\/\{id\}', args\)/);
});
