// The properties every fuzzed response must hold, whatever was sent:
//   - an answer at all, and never a 5xx (nothing is down during the fuzz runs);
//   - any status >= 400 carries OpenAI's error shape {error:{message,type,code,param}} with a code
//     from the registry (src/http/errors.ts), the registry's type and the registry's status;
//   - no secret (admin keys, /v1 keys, provider credentials) in the body or a header;
//   - nothing the client injected (a header after CR/LF) came back as a response header.
// Write-side properties (nothing half-written) are checked by fuzz-db.ts.
import { ERRORS } from '../../src/http/errors.ts';
import type { Received } from './fuzz-transport.ts';

export interface Violation {
  kind: 'no-answer' | '5xx' | 'error-shape' | 'secret' | 'injected-header' | 'partial-write' | 'upstream-reached' | 'upstream-crashed' | 'reservation-left' | 'duplicate-upstream' | 'secret-in-log' | 'error-logged';
  /** what groups equal failures: the error code or framework code, the fault's source file, … */
  label: string;
  detail: string;
}

export interface Secrets {
  /** exact strings that must never appear in a response, by a name safe to print */
  named: Record<string, string>;
  /** patterns of secrets the fuzzer itself invents (provider credentials it sends) */
  patterns: RegExp[];
}

export function checkResponse(res: Received, method: string, secrets: Secrets): Violation[] {
  if (!res.ok) return [{ kind: 'no-answer', label: res.error.replace(/\d+/g, 'N'), detail: res.error }];
  const out: Violation[] = [];
  const text = res.body.toString('utf8');
  const label = errorLabel(text);
  if (res.status >= 500) out.push({ kind: '5xx', label: `${res.status} ${label}`, detail: text.slice(0, 300) });
  if (res.status >= 400 && method !== 'HEAD') {
    const problem = shapeProblem(res.status, text);
    if (problem) out.push({ kind: 'error-shape', label: `${res.status} ${label}: ${problem}`, detail: text.slice(0, 300) });
  }
  const leak = findSecret(text + '\n' + JSON.stringify(res.headers), secrets);
  if (leak) out.push({ kind: 'secret', label: leak, detail: `the response carries the ${leak}` });
  if (res.headers['x-injected'] !== undefined) out.push({ kind: 'injected-header', label: 'x-injected', detail: 'a header injected into the request came back in the response' });
  return out;
}

/** The name of the first secret found in `text`, or undefined. */
export function findSecret(text: string, secrets: Secrets): string | undefined {
  for (const [name, value] of Object.entries(secrets.named)) if (value && text.includes(value)) return name;
  for (const p of secrets.patterns) if (p.test(text)) return `secret matching ${p}`;
  return undefined;
}

/** What a response calls its error: OpenAI code, else a framework's code or error name. */
export function errorLabel(text: string): string {
  try {
    const j = JSON.parse(text) as Record<string, unknown> | null;
    const e = j?.error;
    if (e && typeof e === 'object' && typeof (e as { code?: unknown }).code === 'string') return (e as { code: string }).code;
    if (typeof j?.code === 'string') return j.code;
    if (typeof e === 'string') return e;
    return 'json without error';
  } catch {
    return text ? 'not json' : 'empty body';
  }
}

function shapeProblem(status: number, text: string): string | undefined {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return text ? 'body is not JSON' : 'empty body';
  }
  const e = (j as { error?: unknown } | null)?.error;
  if (!e || typeof e !== 'object' || Array.isArray(e)) return 'no {error:{…}} object';
  const { message, type, code, param } = e as Record<string, unknown>;
  if (typeof message !== 'string' || message === '') return 'error.message is not a non-empty string';
  if (typeof type !== 'string') return 'error.type is not a string';
  if (!('param' in e) || (param !== null && typeof param !== 'string')) return 'error.param is not a string or null';
  if (typeof code !== 'string' || !Object.hasOwn(ERRORS, code)) return `error.code ${JSON.stringify(code)} is not in the registry`;
  const entry = ERRORS[code as keyof typeof ERRORS];
  if (entry.type !== type) return `error.type ${type} is not the registry's ${entry.type}`;
  if (entry.status !== status) return `status ${status} is not the registry's ${entry.status} for ${code}`;
  return undefined;
}

/** How a logged error names a failure class: its message (the request's own long numbers folded) and where it was thrown. */
export function faultLabel(e: LoggedError): string {
  return `${e.message.replace(/\b\d{3,}\b/g, 'N')}${e.frame ? ` @ ${e.frame}` : ''}`;
}

export interface LoggedError {
  message: string;
  /** the first stack frame inside src/ (file:line), when the error had a stack */
  frame: string | undefined;
}

/** Error-level lines (pino level 50+): nothing a fuzz case sends should make the server log one. */
export function loggedErrors(logLines: string[]): LoggedError[] {
  const out: LoggedError[] = [];
  for (const line of logLines) {
    let j: { level?: number; err?: string | { message?: string; stack?: string }; msg?: string };
    try {
      j = JSON.parse(line);
    } catch {
      continue; // not a pino line
    }
    if ((j.level ?? 0) < 50) continue;
    const err = typeof j.err === 'string' ? { message: j.err, stack: undefined } : j.err;
    const frame = /\/(src\/[^\s:)]+):(\d+)/.exec(err?.stack ?? '');
    const message = [j.msg, err?.message].filter(Boolean).join(': ').split('\n')[0]!.slice(0, 160);
    out.push({ message, frame: frame ? `${frame[1]}:${frame[2]}` : undefined });
  }
  return out;
}
