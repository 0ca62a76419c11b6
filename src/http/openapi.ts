// The OpenAPI 3.1 document of /api and /internal (GET /api/openapi.json), built from the app's route table:
// each route's config `doc` (http/route-doc.ts) holds the zod schemas its handler validates with,
// turned into JSON Schema (draft 2020-12, OpenAPI 3.1's dialect) by zod itself, so the document
// cannot drift from the validation; there is no hand-kept copy. Path parameters come from the URL,
// errors from the registry (http/errors.ts), credentials from http/admin-auth.ts and auth/sessions.ts.
// Examples are the schemas' own `.meta({ examples })`.
import { z, type ZodType } from 'zod';
import type { RouteEntry } from '../app.ts';
import { ERRORS, type ErrorCode } from './errors.ts';
import { CSRF_HEADER, SESSION_COOKIE } from '../auth/sessions.ts';
import { takesIdempotencyKey } from './idempotency.ts';
import { MAX_INT32 } from './validate.ts';
import { isAdminUrl } from './admin-pipeline.ts';

type Json = Record<string, unknown>;
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Json;
  servers: Json[];
  tags: Json[];
  paths: Record<string, Record<string, Operation>>;
  components: Json & { responses: Record<string, Json>; schemas: Record<string, Json> };
}
export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  'x-tollgate-action'?: string;
  security: Json[];
  parameters?: Json[];
  requestBody?: Json;
  responses: Record<string, Json>;
}


const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

function jsonSchema(schema: ZodType, io: 'input' | 'output'): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Json;
  return rest;
}

/** The first example the schema declares with `.meta({ examples: [...] })`. */
function exampleOf(schema: ZodType): unknown {
  const examples = (schema.meta() as { examples?: unknown[] } | undefined)?.examples;
  return Array.isArray(examples) ? examples[0] : undefined;
}

/** /api/teams/:id/keys/:keyId → /api/teams/{id}/keys/{keyId}, and its parameter names. */
function openApiPath(url: string): { path: string; params: string[] } {
  const params: string[] = [];
  const path = url.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path, params };
}

/** getTeamsByIdKeys: stable, from the method and the path (a generated client's method names). */
function operationId(method: string, url: string): string {
  const words = url.replace(/^\/api\//, '').split('/').filter(Boolean).map((seg) => (seg.startsWith(':') ? `by-${seg.slice(1)}` : seg));
  const camel = words.join('-').split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return method.toLowerCase() + camel;
}

/**
 * Ids in /api paths are positive 32-bit integers (http/validate.ts idParam); a token or request id
 * is text, and so are /internal's prefixed ids (`ak_12`: internal/internal-ids.ts).
 */
const pathSchema = (name: string, url: string): Json => {
  if (url.startsWith('/internal/')) return { type: 'string', description: 'a prefixed id such as ak_12 (the bare number is accepted too)' };
  return name === 'id' || (/Id$/.test(name) && name !== 'requestId') ? { type: 'integer', minimum: 1, maximum: MAX_INT32 } : { type: 'string' };
};

function queryParameters(schema: ZodType): Json[] {
  const s = jsonSchema(schema, 'input');
  const props = (s.properties ?? {}) as Record<string, Json>;
  const required = new Set((s.required ?? []) as string[]);
  return Object.entries(props).map(([name, prop]) => ({ name, in: 'query', required: required.has(name), schema: prop, ...(typeof prop.description === 'string' ? { description: prop.description } : {}) }));
}

function security(r: RouteEntry): Json[] {
  if (r.public) return [];
  const session = SAFE.has(r.method) ? { sessionCookie: [] } : { sessionCookie: [], csrfToken: [] };
  return [{ bearerKey: [] }, { adminKeyHeader: [] }, session];
}

/** Which shared error responses an operation can answer with. */
function errorStatuses(r: RouteEntry, hasParams: boolean): number[] {
  const out = [400];
  if (!r.public) out.push(401, 403);
  if (hasParams || !r.public) out.push(404);
  if (!SAFE.has(r.method)) out.push(409);
  out.push(429);
  return out;
}

function operation(r: RouteEntry, params: string[]): Operation {
  const doc = r.doc;
  const op: Operation = {
    operationId: operationId(r.method, r.url),
    summary: doc?.summary ?? `${r.method} ${r.url}`,
    tags: [doc?.tag ?? 'Other'],
    security: security(r),
    responses: {},
  };
  if (doc?.description) op.description = doc.description;
  if (r.action) op['x-tollgate-action'] = r.action;
  const parameters: Json[] = params.map((name) => ({ name, in: 'path', required: true, schema: pathSchema(name, r.url) }));
  if (doc?.query) parameters.push(...queryParameters(doc.query));
  if (takesIdempotencyKey(r)) parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
  if (parameters.length > 0) op.parameters = parameters;
  if (doc?.body) {
    const example = exampleOf(doc.body);
    op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(doc.body, 'input'), ...(example !== undefined ? { example } : {}) } } };
  }
  const status = String(doc?.status ?? 200);
  const content = doc?.response ? { 'application/json': { schema: jsonSchema(doc.response, 'output') } } : { 'application/json': { schema: {} } };
  op.responses[status] = { description: doc?.status === 201 ? 'Created' : 'OK', content, ...(takesIdempotencyKey(r) ? { headers: REPLAY_HEADERS } : {}) };
  for (const s of errorStatuses(r, params.length > 0)) op.responses[String(s)] = { $ref: `#/components/responses/Error${s}` };
  op.responses.default = { $ref: '#/components/responses/ErrorOther' };
  return op;
}

/** On a create's answer when it replays an earlier one (http/idempotency.ts). */
const REPLAY_HEADERS = {
  'idempotent-replayed': { description: 'true: the answer of an earlier request with the same Idempotency-Key (same status; rotating an API key replays with 200)', schema: { type: 'string', const: 'true' } },
  'idempotent-secret-omitted': { description: 'the response fields left out of a replay because they held a secret (shown once)', schema: { type: 'string' } },
};

const ERROR_SCHEMA = {
  type: 'object',
  description: "OpenAI's error shape, on /api and /v1 alike.",
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['message', 'type', 'code', 'param'],
      properties: {
        message: { type: 'string' },
        type: { type: 'string', enum: [...new Set(Object.values(ERRORS).map((e) => e.type))] },
        code: { type: 'string', enum: Object.keys(ERRORS) },
        param: { type: ['string', 'null'], description: 'the field, query parameter or header at fault' },
      },
      additionalProperties: true,
    },
  },
};

/** One shared response per status, listing every code the registry answers it with (and an example of each). */
function errorResponses(): Record<string, Json> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const [code, e] of Object.entries(ERRORS) as [ErrorCode, (typeof ERRORS)[ErrorCode]][]) byStatus.set(e.status, [...(byStatus.get(e.status) ?? []), code]);
  const out: Record<string, Json> = {};
  const entry = (codes: ErrorCode[]) => ({
    description: `Codes: ${codes.map((c) => `\`${c}\` (${ERRORS[c].type})`).join(', ')}.`,
    content: {
      'application/json': {
        schema: { $ref: '#/components/schemas/Error' },
        examples: Object.fromEntries(codes.map((c) => [c, { value: { error: { message: `(${c})`, type: ERRORS[c].type, code: c, param: null } } }])),
      },
    },
  });
  const listed = [400, 401, 403, 404, 409, 429];
  for (const s of listed) out[`Error${s}`] = entry(byStatus.get(s) ?? []);
  out.ErrorOther = entry([...byStatus.entries()].filter(([s]) => !listed.includes(s)).flatMap(([, c]) => c));
  return out;
}

export function buildOpenApi(routes: readonly RouteEntry[], version: string): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const tags = new Set<string>();
  const api = routes.filter((r) => isAdminUrl(r.url)).sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method));
  for (const r of api) {
    const { path, params } = openApiPath(r.url);
    const op = operation(r, params);
    tags.add(op.tags[0]!);
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tollgate admin API',
      version,
      description: 'Teams, keys, limits, people and usage of a Tollgate gateway, and seed 001\'s /internal paths over the same objects. The OpenAI-compatible /v1 endpoints are described by OpenAI\'s own reference. Guide: docs/automation.md.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/' }],
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: {
        bearerKey: { type: 'http', scheme: 'bearer', description: 'The master key or a management key (sk-tgm-…).' },
        adminKeyHeader: { type: 'apiKey', in: 'header', name: 'X-Admin-Key', description: 'The same keys, in their own header.' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'A signed-in person (POST /api/auth/login).' },
        csrfToken: { type: 'apiKey', in: 'header', name: CSRF_HEADER, description: 'With a session, on every request that changes something: the csrf_token from sign-in.' },
      },
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: 'Retry safely: the same key, caller and request within 24 hours answers with the first answer (idempotent-replayed: true) instead of creating again; another request with the same key is 409. A secret in the first answer is not repeated (idempotent-secret-omitted names it).',
          schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
        },
      },
      schemas: { Error: ERROR_SCHEMA },
      responses: errorResponses(),
    },
  };
}
