// The admission contract between the hot path and the limits engine.
// admit() checks rate windows, concurrency and budget reservations at every level the key belongs
// to (key ⊂ member ⊂ team ⊂ org), all-or-nothing. An admitted request holds a Ticket; settle()
// replaces the reservation by the actual cost and frees the concurrency slot, exactly once.
import type { KeyContext } from '../keys/key-context.ts';

export type Level = 'key' | 'member' | 'service_account' | 'team' | 'org';

export interface AdmissionRequest {
  ctx: KeyContext;
  model: string;
  /** upper bound of tokens the request can consume (prompt bound + output cap) */
  tokenBound: number;
  /** upper bound of its cost in micro-USD; undefined when the model is unpriced */
  costBoundMicro: number | undefined;
  /** the field whose cost has no bound, and why (a hard budget refuses the request), if any */
  unbounded?: { param: string; reason: string } | undefined;
  now: number;
}

/** Values for the x-ratelimit-* headers: the tightest request and token windows that apply. */
export interface RateHeaders {
  limitRequests?: number;
  remainingRequests?: number;
  resetRequestsMs?: number;
  limitTokens?: number;
  remainingTokens?: number;
  resetTokensMs?: number;
}

export interface Ticket {
  /**
   * Replace the reservation with what was actually consumed; release the concurrency slot. With a
   * shared counter store, a promise that resolves (never rejects) once the store has applied it —
   * or nothing, when the store holds the reservation until it applies it later (redis-store.ts).
   */
  settle(actual: { tokens: number; costMicro: number }): void | Promise<void>;
}

export type DenialCode = 'rate_limit_exceeded' | 'concurrency_limit_exceeded' | 'budget_exceeded' | 'cost_unbounded' | 'service_unavailable';

export type AdmissionOutcome =
  | { ok: true; ticket: Ticket; headers: RateHeaders }
  | {
      ok: false;
      code: DenialCode;
      level: Level | null;
      /** the limit that refused: a count, tokens, or USD for budgets */
      limit: number | null;
      resetAt: number | null;
      message: string;
      headers: RateHeaders;
      details?: Record<string, unknown>;
    };

export interface Admission {
  /** A plain outcome when it could be decided at once (warm, in-memory), else a promise. */
  admit(req: AdmissionRequest): AdmissionOutcome | Promise<AdmissionOutcome>;
}
