// What run.ts asks of the load generator, and what it answers.
import type { Summary } from './stats.ts';

interface Common {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type LoadSpec =
  | (Common & { mode: 'closed'; connections: number; durationMs: number })
  /** open: requests sent in the first warmupMs (the generator's own JIT and connections) are not recorded */
  | (Common & { mode: 'open'; rate: number; durationMs: number; warmupMs?: number })
  | (Common & { mode: 'ttfb'; count: number });

export interface LoadResult {
  mode: LoadSpec['mode'];
  /** completed with HTTP 200 */
  requests: number;
  errors: number;
  statuses: Record<string, number>;
  bytes: number;
  elapsedMs: number;
  rps: number;
  /** whole-response latency of the 200s, ms */
  latency: Summary;
  /** open mode: the worst lateness of the send schedule, ms (a generator that cannot keep up) */
  maxLagMs?: number;
  /** ttfb mode: time to the first response body byte, ms */
  ttfb?: Summary;
  firstError?: string;
}
