// Date-times the API accepts are stored in one canonical form, `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC,
// always a four-digit year), so that comparing them as text (SQL) and as instants agree.
// Without a horizon they did not: Date#toISOString writes a year past 9999 as `+010000-…`, which
// sorts before every ordinary date, so an expiry of "9999-12-31T23:59:59-00:01" read as already
// past in SQL while the key stayed usable — and its budget cap escaped the allocation check.
import { z } from 'zod';
import { ApiError } from './errors.ts';

/** How far ahead an accepted date-time may lie. */
export const HORIZON_YEARS = 10;

/** ISO-8601 with a time zone (Z or ±hh:mm); real calendar dates only. */
export const isoDateTime = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time with a time zone, e.g. 2026-12-31T00:00:00Z' });

/** The latest instant accepted at `now`: the same moment HORIZON_YEARS later. */
export function horizon(now: number): number {
  const d = new Date(now);
  d.setUTCFullYear(d.getUTCFullYear() + HORIZON_YEARS);
  return d.getTime();
}

/**
 * The canonical UTC form of a validated date-time (see isoDateTime). Refuses, naming `field`, an
 * instant past the horizon and, with `future`, one not after `now`.
 */
export function canonicalInstant(value: string, field: string, now: number, opts: { future?: boolean } = {}): string {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new ApiError('invalid_request', `${field}: is not a valid date-time`, field);
  if (opts.future && ms <= now) throw new ApiError('invalid_request', `${field}: must be in the future`, field);
  if (ms > horizon(now)) throw new ApiError('invalid_request', `${field}: must be at most ${HORIZON_YEARS} years ahead (${new Date(horizon(now)).toISOString()})`, field);
  return new Date(ms).toISOString();
}

/** An instant as stored (canonical, or a legacy `+010000-…` form) in ms; unreadable ones are treated as never. */
export function storedInstant(value: string | null): number {
  if (value === null) return Infinity;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? Infinity : ms;
}
