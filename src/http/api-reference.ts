// The rendered reference at /api/docs: plain HTML rendered on the server from the OpenAPI document
// (http/openapi.ts), with one stylesheet (/api/docs/style.css) and no script at all, so it works
// offline and under `Content-Security-Policy: default-src 'none'; style-src 'self'`.
import type { OpenApiDocument, Operation } from './openapi.ts';

export const REFERENCE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

type Schema = Record<string, unknown>;

/** A compact type: string, integer ≥ 1, "a" | "b", array of string, null allowed … */
function typeOf(s: Schema | undefined): string {
  if (!s) return 'any';
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(s.anyOf)) return (s.anyOf as Schema[]).map(typeOf).join(' | ');
  if (s.type === 'array') return `array of ${typeOf(s.items as Schema | undefined)}`;
  const bounds = [s.minimum !== undefined && Math.abs(Number(s.minimum)) < 1e15 ? `≥ ${s.minimum}` : '', s.maximum !== undefined && Math.abs(Number(s.maximum)) < 1e15 ? `≤ ${s.maximum}` : '', s.maxLength !== undefined ? `≤ ${s.maxLength} chars` : ''].filter(Boolean).join(', ');
  const type = Array.isArray(s.type) ? s.type.join(' | ') : typeof s.type === 'string' ? s.type : 'any';
  return bounds ? `${type} (${bounds})` : type;
}

function fieldsTable(schema: Schema | undefined, title: string): string {
  const props = (schema?.properties ?? {}) as Record<string, Schema>;
  const names = Object.keys(props);
  if (names.length === 0) return '';
  const required = new Set((schema?.required ?? []) as string[]);
  const rows = names.map((n) => `<tr><td><code>${esc(n)}</code>${required.has(n) ? ' <b>required</b>' : ''}</td><td>${esc(typeOf(props[n]))}</td><td>${esc(props[n]?.description ?? '')}</td></tr>`).join('');
  return `<h4>${esc(title)}</h4><table><tr><th>field</th><th>type</th><th></th></tr>${rows}</table>`;
}

function paramsTable(op: Operation): string {
  const params = (op.parameters ?? []).filter((p) => !('$ref' in p)) as Schema[];
  const rows = params.map((p) => `<tr><td><code>${esc(p.name)}</code> (${esc(p.in)})${p.required ? ' <b>required</b>' : ''}</td><td>${esc(typeOf(p.schema as Schema))}</td></tr>`).join('');
  const idem = (op.parameters ?? []).some((p) => '$ref' in p) ? '<tr><td><code>Idempotency-Key</code> (header)</td><td>string: retries answer with the first answer</td></tr>' : '';
  return rows || idem ? `<h4>Parameters</h4><table>${rows}${idem}</table>` : '';
}

function operationHtml(method: string, path: string, op: Operation): string {
  const body = (op.requestBody?.content as Record<string, { schema?: Schema; example?: unknown }> | undefined)?.['application/json'];
  const [status, ok] = Object.entries(op.responses).find(([s]) => /^2/.test(s)) ?? ['200', {}];
  const okSchema = ((ok as Schema).content as Record<string, { schema?: Schema }> | undefined)?.['application/json']?.schema;
  const auth = op.security.length === 0 ? 'public' : `action <code>${esc(op['x-tollgate-action'] ?? '')}</code>`;
  return `<section id="${esc(op.operationId)}"><h3><span class="m ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary)} <small>(${auth}; <code>${esc(op.operationId)}</code>)</small></p>${op.description ? `<p>${esc(op.description)}</p>` : ''}
${paramsTable(op)}${fieldsTable(body?.schema, 'Body')}${body?.example !== undefined ? `<h4>Example</h4><pre>${esc(JSON.stringify(body.example, null, 2))}</pre>` : ''}
<p>Answers <b>${esc(status)}</b>${okSchema && Object.keys(okSchema).length > 0 ? '' : ' (JSON)'}; errors in <a href="#errors">OpenAI's shape</a>.</p>${fieldsTable(okSchema, 'Response')}</section>`;
}

export function renderReference(doc: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  const toc = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const tag = op.tags[0] ?? 'Other';
      (byTag.get(tag) ?? byTag.set(tag, []).get(tag)!).push(operationHtml(method, path, op));
      (toc.get(tag) ?? toc.set(tag, []).get(tag)!).push(`<li><a href="#${esc(op.operationId)}">${esc(method.toUpperCase())} ${esc(path)}</a></li>`);
    }
  }
  const tags = [...byTag.keys()].sort();
  const errors = Object.entries(doc.components.responses)
    .map(([name, r]) => `<tr><td>${esc(name.replace('Error', '') || name)}</td><td>${esc((r as { description?: string }).description ?? '').replace(/`([^`]+)`/g, '<code>$1</code>')}</td></tr>`)
    .join('');
  const info = doc.info as { title: string; version: string; description: string };
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)}</title><link rel="stylesheet" href="/api/docs/style.css"></head><body>
<nav><h2>${esc(info.title)} <small>${esc(info.version)}</small></h2><p><a href="/api/openapi.json">openapi.json</a></p>${tags.map((t) => `<h4>${esc(t)}</h4><ul>${toc.get(t)!.join('')}</ul>`).join('')}</nav>
<main><h1>${esc(info.title)}</h1><p>${esc(info.description)}</p>
<h2>Authentication</h2><p>A management key or the master key as <code>Authorization: Bearer …</code> or <code>X-Admin-Key: …</code>; or a signed-in session (cookie), which sends <code>X-CSRF-Token</code> on every request that changes something. Each operation names the action it needs (docs/people.md).</p>
<h2>Retries</h2><p>Operations that create something take an <code>Idempotency-Key</code> header: a retry with the same key, caller and body within 24 hours answers with the first answer and <code>idempotent-replayed: true</code>; another request with the same key is 409.</p>
${tags.map((t) => `<h2>${esc(t)}</h2>${byTag.get(t)!.join('\n')}`).join('\n')}
<h2 id="errors">Errors</h2><p><code>{"error": {"message", "type", "code", "param"}}</code>; <code>param</code> names the field, query parameter or header at fault.</p><table><tr><th>status</th><th>codes</th></tr>${errors}</table>
</main></body></html>`;
}

export const REFERENCE_CSS = `body{margin:0;display:flex;font:15px/1.5 system-ui,sans-serif;color:#1d2330}
nav{width:19rem;flex:none;height:100vh;overflow:auto;position:sticky;top:0;padding:1rem;background:#f4f6f9;font-size:13px}
nav ul{list-style:none;padding:0;margin:0 0 .5rem}main{padding:1rem 2rem;max-width:60rem;min-width:0}
section{border-top:1px solid #dde2ea;padding:.5rem 0}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #dde2ea;padding:.2rem .5rem;text-align:left;vertical-align:top}pre{background:#f4f6f9;padding:.5rem;overflow:auto}
.m{display:inline-block;min-width:4rem;font-size:12px;padding:0 .3rem;border-radius:3px;color:#fff;background:#5a6478;text-align:center}
.get{background:#2f7d4f}.post{background:#2f5d9e}.put,.patch{background:#9a6a12}.delete{background:#a33a3a}a{color:#2f5d9e}`;
