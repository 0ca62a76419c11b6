// Ids on the /internal surface (seed 001) are strings with a type prefix — `team_12`, `user_5`,
// `ak_40` — over Tollgate's numeric ids, so team_12 is /api/teams/12 and back. Seed 001's page
// shows opaque ids (`team_01j...`); scripts copy them from one answer into the next request, so
// any stable prefixed form works. The bare number is accepted too (for people holding /api ids).
import { z } from 'zod';
import { ApiError } from '../http/errors.ts';
import { MAX_INT32 } from '../http/validate.ts';

export const ID_PREFIX = { team: 'team_', user: 'user_', key: 'ak_' } as const;
export type IdKind = keyof typeof ID_PREFIX;

export function internalId(kind: IdKind, id: number): string {
  return `${ID_PREFIX[kind]}${id}`;
}

export function internalIdOrNull(kind: IdKind, id: number | null): string | null {
  return id === null ? null : internalId(kind, id);
}

/** The numeric id of `team_12`, `"12"` or `12` for `kind`; undefined when it is none of these. */
export function numericId(kind: IdKind, value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 1 && value <= MAX_INT32 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const digits = value.startsWith(ID_PREFIX[kind]) ? value.slice(ID_PREFIX[kind].length) : value;
  if (!/^[1-9]\d{0,9}$/.test(digits)) return undefined;
  const n = Number(digits);
  return n <= MAX_INT32 ? n : undefined;
}

const example = (kind: IdKind) => `${ID_PREFIX[kind]}12`;

/** A body or query field holding an id of `kind`: a 400 naming the field when malformed. */
export function idField(kind: IdKind) {
  return z
    .union([z.string(), z.number()])
    .transform((v, ctx) => {
      const n = numericId(kind, v);
      if (n !== undefined) return n;
      ctx.addIssue({ code: 'custom', message: `must be a ${kind} id such as "${example(kind)}"` });
      return z.NEVER;
    })
    .meta({ description: `"${ID_PREFIX[kind]}<id>" (or the bare numeric id of /api)`, examples: [example(kind)] });
}

/** A path parameter holding an id of `kind`: malformed is a 404, like an unknown one, naming the parameter. */
export function pathId(kind: IdKind, value: unknown, param = 'id'): number {
  const n = numericId(kind, value);
  if (n === undefined) throw new ApiError('not_found', `${param}: ${kind === 'key' ? 'API key' : kind} ${String(value).slice(0, 64)} not found`, param);
  return n;
}
