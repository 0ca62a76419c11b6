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
export function tsType(schema: unknown, indent = '', defs = 'Def_'): string {
  if (schema === true || schema === undefined) return 'unknown';
  if (schema === false) return 'never';
  const s = schema as Schema;
  if (typeof s.$ref === 'string') {
    const name = s.$ref.split('/').pop()!;
    return /^[A-Za-z0-9_]+$/.test(name) ? `${defs}${name}` : 'unknown';
  }
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ') || 'never';
  for (const union of ['anyOf', 'oneOf'] as const) {
    if (Array.isArray(s[union])) return paren((s[union] as unknown[]).map((m) => tsType(m, indent, defs)));
  }
  if (Array.isArray(s.allOf)) return (s.allOf as unknown[]).map((m) => tsType(m, indent, defs)).join(' & ');
  if (Array.isArray(s.type)) return paren((s.type as string[]).map((t) => tsType({ ...s, type: t }, indent, defs)));
  switch (s.type) {
    case 'string': return 'string';
    case 'integer': case 'number': return 'number';
    case 'boolean': return 'boolean';
    case 'null': return 'null';
    case 'array': {
      if (Array.isArray(s.prefixItems)) return `[${(s.prefixItems as unknown[]).map((m) => tsType(m, indent, defs)).join(', ')}]`;
      const item = tsType(s.items, indent, defs);
      return /[|&]/.test(item) ? `Array<${item}>` : `${item}[]`;
    }
    case 'object': return objectType(s, indent, defs);
    default: return 'unknown';
  }
}

function paren(members: string[]): string {
  const unique = [...new Set(members)];
  return unique.length === 1 ? unique[0]! : unique.map((m) => (m.includes('=>') ? `(${m})` : m)).join(' | ');
}

function objectType(s: Schema, indent: string, defs: string): string {
  const props = (s.properties ?? {}) as Record<string, unknown>;
  const required = new Set((s.required ?? []) as string[]);
  const inner = indent + '  ';
  const lines = Object.entries(props).map(([name, prop]) => {
    const doc = typeof (prop as Schema)?.description === 'string' ? `${inner}/** ${String((prop as Schema).description).replace(/\*\//g, '* /')} */\n` : '';
    return `${doc}${inner}${key(name)}${required.has(name) ? '' : '?'}: ${tsType(prop, inner, defs)};`;
  });
  const extra = s.additionalProperties;
  if (extra !== undefined && extra !== false) lines.push(`${inner}[key: string]: ${extra === true ? 'unknown' : tsType(extra, inner, defs)};`);
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
      // A schema's $defs (zod's recursive or shared parts) are its own: named per schema.
      const defsOf = (schema: unknown, prefix: string): string => {
        for (const [n, def] of Object.entries(((schema as Schema | undefined)?.$defs ?? {}) as Record<string, unknown>)) out.push(`export type ${prefix}${n} = ${tsType(def, '', prefix)};`);
        return prefix;
      };
      const fields: string[] = [];
      if (pathParams.length > 0) {
        out.push(`export interface ${T}Path { ${pathParams.map((p) => `${key(p.name)}: ${tsType(p.schema)};`).join(' ')} }`);
        fields.push(`path: ${T}Path`);
      }
      if (queryParams.length > 0) {
        out.push(`export interface ${T}Query {\n${queryParams.map((q) => `  ${key(q.name)}${q.required ? '' : '?'}: ${tsType(q.schema, '  ', defsOf(q.schema, `${T}Query${pascal(q.name)}_`))};`).join('\n')}\n}`);
        fields.push(`query${queryParams.some((q) => q.required) ? '' : '?'}: ${T}Query`);
      }
      if (body !== undefined) {
        out.push(`export type ${T}Body = ${tsType(body, '', defsOf(body, `${T}Body_`))};`);
        fields.push(`body: ${T}Body`);
      }
      out.push(`export type ${T}Response = ${response === undefined ? 'unknown' : tsType(response, '', defsOf(response, `${T}Response_`))};`);
      const argsType = `{ ${fields.join('; ')}${fields.length ? '; ' : ''}options?: CallOptions }`;
      const optional = fields.every((f) => f.startsWith('query?'));
      const summary = op.summary.replace(/\*\//g, '* /');
      ops.push(`  /** ${method.toUpperCase()} ${path} — ${summary} */\n  ${name}: (args: ${argsType}${optional ? ' = {}' : ''}): Promise<${T}Response> => call('${method.toUpperCase()}', '${path}', args),`);
      out.push('');
    }
  }
  out.push('', 'export const api = {', ...ops, '};', '');
  return out.join('\n');
}
