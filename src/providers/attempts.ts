// The try order of one request over a route's deployments: highest priority first; within one
// priority a weighted random order (traffic splits by weight); each deployment tried 1 + retries
// times, a retry after a jittered exponential backoff. Bounded: a request never makes more than
// MAX_ATTEMPTS upstream calls, whatever the route says.
import type { ResolvedRoute } from './types.ts';

export interface Attempt {
  deployment: ResolvedRoute;
  /** wait this long before the attempt (0: at once; a retry on the same deployment backs off) */
  delayMs: number;
}

/** upstream calls per request, at most (retries and fallbacks together) */
export const MAX_ATTEMPTS = 5;
/** retries per deployment, at most (a route asking for more is clamped) */
export const MAX_RETRIES = 3;
/** the first retry waits BACKOFF_MS … 3 × BACKOFF_MS; each further one twice as long, capped */
const BACKOFF_MS = 100;
const BACKOFF_CAP_MS = 2_000;

/**
 * Orders deployments (already in priority order, highest first) into attempts.
 * `random` is injectable so tests can pin the weighted pick.
 */
export function planAttempts(deployments: readonly ResolvedRoute[], retries: number | undefined, random: () => number = Math.random): Attempt[] {
  const tries = 1 + Math.min(MAX_RETRIES, Math.max(0, retries ?? 0));
  const out: Attempt[] = [];
  for (const deployment of weightedOrder(deployments, random)) {
    for (let i = 0; i < tries && out.length < MAX_ATTEMPTS; i++) out.push({ deployment, delayMs: i === 0 ? 0 : backoff(i, random) });
    if (out.length >= MAX_ATTEMPTS) break;
  }
  return out;
}

/** Delay before the n-th retry (n ≥ 1) on the same deployment: 100–300 ms, then ×2, capped. */
export function backoff(n: number, random: () => number = Math.random): number {
  const base = BACKOFF_MS * 2 ** (n - 1);
  return Math.min(BACKOFF_CAP_MS, Math.round(base * (1 + 2 * random())));
}

/**
 * Priority groups in the order given (callers pass highest priority first); inside a group, a
 * weighted random permutation: each next deployment is drawn with probability weight / remaining.
 * One group of one deployment (the common case) costs no allocation beyond the result.
 */
export function weightedOrder(deployments: readonly ResolvedRoute[], random: () => number = Math.random): ResolvedRoute[] {
  if (deployments.length <= 1) return deployments.slice();
  const out: ResolvedRoute[] = [];
  let start = 0;
  while (start < deployments.length) {
    let end = start + 1;
    while (end < deployments.length && deployments[end]!.priority === deployments[start]!.priority) end++;
    if (end - start === 1) out.push(deployments[start]!);
    else {
      const group = deployments.slice(start, end);
      let total = group.reduce((s, d) => s + Math.max(1, d.weight), 0);
      while (group.length) {
        let r = random() * total;
        let i = 0;
        for (; i < group.length - 1; i++) {
          r -= Math.max(1, group[i]!.weight);
          if (r < 0) break;
        }
        const [picked] = group.splice(i, 1);
        total -= Math.max(1, picked!.weight);
        out.push(picked!);
      }
    }
    start = end;
  }
  return out;
}
