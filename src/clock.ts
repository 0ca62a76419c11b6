// Time as a dependency, so tests can move across minute, day and month boundaries.
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

let lastMs = NaN;
let lastIso = '';

/** ISO-8601 UTC; the last one is remembered (many requests share a millisecond). */
export function iso(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/** UTC calendar day, e.g. "2026-03-28". */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
