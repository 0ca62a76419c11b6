// Time as a dependency, so tests can move across minute, day and month boundaries.
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** UTC calendar day, e.g. "2026-03-28". */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
