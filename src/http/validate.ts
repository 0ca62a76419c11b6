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

/** A positive integer id from a path parameter; anything else is a 404 for that resource. */
export function idParam(value: unknown, what: string): number {
  const n = typeof value === 'string' && /^[1-9]\d{0,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new ApiError('not_found', `${what} ${String(value)} not found`);
  return n;
}

export const pagination = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
export const optionalText = z.string().max(2000, 'must be at most 2000 characters').nullish();
export const id = z.number().int().positive();
