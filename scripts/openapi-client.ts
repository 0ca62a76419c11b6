// The dashboard's typed API client, generated from the OpenAPI document (GET /api/openapi.json):
// one function per operation, named by its operationId, taking { path, query, body } typed from
// the document's schemas and resolving to the success response's schema. Written to
// ui/src/api/generated.ts by scripts/build-ui.ts on every build; never edited, never committed.
// The JSON Schema → TypeScript conversion covers what zod emits (objects, arrays, unions, enums,
// literals, nullables, records, $defs references); anything else is `unknown`, never a guess.
import type { OpenApiDocument, Operation } from '../src/http/openapi.ts';

type Schema = Record<string, unknown>;
const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const key = (name: string): string => (IDENT.test(name) ? name : JSON.stringify(name));
const pascal = (s: string): string => s[0]!.toUpperCase() + s.slice(1);

/** The TypeScript type of a JSON Schema (draft 2020-12, as zod's toJSONSchema writes it). */
export function tsType(schema: unknown, indent = ''): string {
  if (schema === true || schema === undefined) return 'unknown';
  if (schema === false) return 'never';
  const s = schema as Schema;
  if (typeof s.$ref === 'string') {
    const name = s.$ref.split('/').pop()!;
    return /^[A-Za-z0-9_]+$/.test(name) ? `Def_${name}` : 'unknown';
  }
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ') || 'never';
  for (const union of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(s[union])) return paren((s[union] as unknown[]).map((m) => tsType(m, indent)));
  }
  if (Array.isArray(s.allOf)) return (s.allOf as unknown[]).map((m) => tsType(m, indent)).join(' & ');
  if (Array.isArray(s.type)) return paren((s.type as string[]).map((t) => tsType({ ...s, type: t }, indent)));
  switch (s.type) {
    case 'string': return 'string';
    case 'integer': case 'number': return 'number';
    case 'boolean': return 'boolean';
    case 'null': return 'null';
    case 'array': {
      if (Array.isArray(s.prefixItems)) return `[${(s.prefixItems as unknown[]).map((m) => tsType(m, indent)).join(', ')}]`;
      const item = tsType(s.items, indent);
      return /[|&]/.test(item) ? `Array<${item}>` : `${item}[]`;
    }
    case 'object': return objectType(s, indent);
    default: return 'unknown';
  }
}

function paren(members: string[]): string {
  const unique = [...new Set(members)];
  return unique.length === 1 ? unique[0]! : unique.map((m) => (m.includes('=>') ? `(${m})` : m)).join(' | ');
}

function objectType(s: Schema, indent: string): string {
  const props = (s.properties ?? {}) as Record<string, unknown>;
  const required = new Set((s.required ?? []) as string[]);
  const inner = indent + '  ';
  const lines = Object.entries(props).map(([name, prop]) => {
    const doc = typeof (prop as Schema)?.description === 'string' ? `${inner}/** ${String((prop as Schema).description).replace(/\*\//g, '* /')} */\n` : '';
    return `${doc}${inner}${key(name)}${required.has(name) ? '' : '?'}: ${tsType(prop, inner)};`;
  });
  const extra = s.additionalProperties;
  if (extra !== undefined && extra !== false) lines.push(`${inner}[key: string]: ${extra === true ? 'unknown' : tsType(extra, inner)};`);
  if (lines.length === 0) return extra === false ? 'Record<string, never>' : 'Record<string, unknown>';
  return `{\n${lines.join('\n')}\n${indent}}`;
}

interface Parameter { name: string; in: string; required?: boolean; schema?: unknown; $ref?: string }

function successSchema(op: Operation): unknown {
  const status = Object.keys(op.responses).find((s) => s.startsWith('2'));
  const content = (op.responses[status ?? ''] as { content?: Record<string, { schema?: unknown }> } | undefined)?.content;
  const schema = content?.['application/json']?.schema;
  return schema && Object.keys(schema).length > 0 ? schema : undefined;
}

/** The module's source text. */
export function generateClient(doc: OpenApiDocument): string {
  const out: string[] = [
    '// GENERATED from /api/openapi.json by scripts/build-ui.ts (scripts/openapi-client.ts). Do not edit.',
    '/* eslint-disable */',
    "import { call, type CallOptions } from './transport.ts';",
    '',
  ];
  const defs = new Map<string, string>();
  const collectDefs = (schema: unknown) => {
    const d = (schema as Schema | undefined)?.$defs as Record<string, unknown> | undefined;
    for (const [name, def] of Object.entries(d ?? {})) if (!defs.has(name)) defs.set(name, tsType(def));
  };
  const ops: string[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const name = op.operationId;
      const T = pascal(name);
      const params = (op.parameters ?? []) as unknown as Parameter[];
      const pathParams = params.filter((p) => p.in === 'path');
      const queryParams = params.filter((p) => p.in === 'query');
      const body = (op.requestBody as { content?: Record<string, { schema?: unknown }> } | undefined)?.content?.['application/json']?.schema;
      const response = successSchema(op);
      for (const s of [body, response, ...queryParams.map((q) => q.schema)]) collectDefs(s);
      const fields: string[] = [];
      if (pathParams.length > 0) {
        out.push(`export interface ${T}Path { ${pathParams.map((p) => `${key(p.name)}: ${tsType(p.schema)};`).join(' ')} }`);
        fields.push(`path: ${T}Path`);
      }
      if (queryParams.length > 0) {
        out.push(`export interface ${T}Query {\n${queryParams.map((q) => `  ${key(q.name)}${q.required ? '' : '?'}: ${tsType(q.schema, '  ')};`).join('\n')}\n}`);
        fields.push(`query${queryParams.some((q) => q.required) ? '' : '?'}: ${T}Query`);
      }
      if (body !== undefined) {
        out.push(`export type ${T}Body = ${tsType(body)};`);
        fields.push(`body: ${T}Body`);
      }
      out.push(`export type ${T}Response = ${response === undefined ? 'unknown' : tsType(response)};`);
      const argsType = `{ ${fields.join('; ')}${fields.length ? '; ' : ''}options?: CallOptions }`;
      const optional = fields.every((f) => f.startsWith('query?'));
      const summary = op.summary.replace(/\*\//g, '* /');
      ops.push(`  /** ${method.toUpperCase()} ${path} — ${summary} */\n  ${name}: (args: ${argsType}${optional ? ' = {}' : ''}): Promise<${T}Response> => call('${method.toUpperCase()}', '${path}', args),`);
      out.push('');
    }
  }
  for (const [name, type] of defs) out.push(`export type Def_${name} = ${type};`);
  out.push('', 'export const api = {', ...ops, '};', '');
  return out.join('\n');
}
