// Body and query validation for /api routes: zod schemas, and a 400 that names the first bad field.
import { z } from 'zod';
import { ApiError } from './errors.ts';

export function parse<T extends z.ZodType>(schema: T, input: unknown, where = ''): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const unknown = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const path = unknown !== undefined ? [...issue.path, unknown] : issue.path;
  const field = [where, ...path.map(String)].filter(Boolean).join('.') || where || 'body';
  throw new ApiError('invalid_request', `${field}: ${unknown !== undefined ? 'is not a known field' : issue.message}`, field);
}

/** The largest id (and any other 32-bit integer column): PostgreSQL's `integer`. */
export const MAX_INT32 = 2_147_483_647;
/** The largest value of a 64-bit counter column Tollgate accepts (tokens; far inside `bigint`). */
export const MAX_COUNT = 1e12;

/** A positive integer id from a path parameter; anything else is a 404 for that resource. */
export function idParam(value: unknown, what: string): number {
  const n = typeof value === 'string' && /^[1-9]\d{0,9}$/.test(value) ? Number(value) : NaN;
  if (!(n <= MAX_INT32)) throw new ApiError('not_found', `${what} ${String(value)} not found`);
  return n;
}

export const pagination = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).max(MAX_INT32).default(0),
});

/** Deeper JSON than this is refused, on /api here and on /v1 (src/proxy/body-check.ts). */
export const MAX_DEPTH = 64;

/**
 * The first problem of a parsed body or query that no route should see: a string (value or key)
 * holding U+0000, which PostgreSQL's text cannot store, or nesting deeper than MAX_DEPTH. Checked
 * once, before any route; bounded recursion (a 5,000-deep body stops at level 64).
 */
export function jsonProblem(v: unknown, path = '', depth = 0): { param: string; message: string } | undefined {
  if (typeof v === 'string') return v.includes('\u0000') ? { param: path || 'body', message: 'must not contain the NUL character (U+0000)' } : undefined;
  if (typeof v !== 'object' || v === null) return undefined;
  if (depth >= MAX_DEPTH) return { param: path || 'body', message: `is nested more than ${MAX_DEPTH} levels deep` };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = jsonProblem(v[i], `${path}[${i}]`, depth + 1);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    const at = path ? `${path}.${k}` : k;
    if (k.includes('\u0000')) return { param: at, message: 'must not contain the NUL character (U+0000)' };
    const p = jsonProblem(x, at, depth + 1);
    if (p !== undefined) return p;
  }
  return undefined;
}

export const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
export const optionalText = z.string().max(2000, 'must be at most 2000 characters').nullish();
export const id = z.number().int().positive().max(MAX_INT32);
/** An id in a query string. */
export const queryId = z.coerce.number().int().positive().max(MAX_INT32);
