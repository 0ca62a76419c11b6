// The opaque cursor of key listings: base64url of [sort, sort value, id] of the last key shown.
// A page continues strictly after that (value, id) in the listing's order, so keys inserted
// meanwhile never shift a page (as an offset would): they appear only if they sort after it.
// The sort is inside so a cursor used with another sort is refused rather than misread.
import { ApiError } from '../http/errors.ts';
import { MAX_INT32 } from '../http/validate.ts';

/**
 * The last key of a page, in the listing's order: its sort value and id. The value is null for
 * creation order (the id alone), a string for last use and expiry, and [month, spend] for the
 * spend order (key-listing.ts).
 */
export interface Position {
  value: string | [string, number] | null;
  id: number;
}

export function encodeCursor(sort: string, p: Position): string {
  return Buffer.from(JSON.stringify([sort, p.value, p.id])).toString('base64url');
}

const bad = (why: string) => new ApiError('invalid_request', `query.cursor: ${why}`, 'query.cursor');

/** The position a cursor holds, checked against the sort it must have been made for. */
export function decodeCursor(cursor: string, sort: string, valueKind: 'none' | 'text' | 'spend'): Position {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad('is not a cursor returned by this listing (next_cursor)');
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw bad('is not a cursor returned by this listing (next_cursor)');
  const [s, value, id] = parsed as [unknown, unknown, unknown];
  if (s !== sort) throw bad(`was made for sort=${typeof s === 'string' ? s.slice(0, 40) : '?'}, not sort=${sort}`);
  if (!(Number.isInteger(id) && (id as number) >= 1 && (id as number) <= MAX_INT32)) throw bad('holds no valid key id');
  const text = (v: unknown, max: number) => typeof v === 'string' && v.length <= max && !v.includes('\u0000');
  const ok =
    valueKind === 'none' ? value === null
    : valueKind === 'text' ? text(value, 64)
    : Array.isArray(value) && value.length === 2 && text(value[0], 16) && Number.isSafeInteger(value[1]);
  if (!ok) throw bad('holds no valid sort value');
  return { value: value as Position['value'], id: id as number };
}
