// Circuit breaker, per replica and per deployment: a deployment failing again and again is taken
// out of the try order for a cool-down instead of costing every request a failed attempt first.
//
//   closed ── N retryable failures in a row (within windowMs) ──► open
//   open ── coolDownMs passed ──► half_open: ONE request probes it
//   half_open ── probe succeeds ──► closed;  probe fails ──► open (a new cool-down)
//
// Per replica on purpose: no shared store on the hot path, and each replica sees its own network.
import type { Clock } from '../clock.ts';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** retryable failures in a row that open the circuit */
  failures: number;
  /** failures further apart than this do not add up (the count starts again) */
  windowMs: number;
  /** how long an open deployment is skipped before one request probes it */
  coolDownMs: number;
}

export const BREAKER_DEFAULTS: BreakerOptions = { failures: 5, windowMs: 60_000, coolDownMs: 30_000 };

interface Health {
  /** failures in a row, and when the first of them happened */
  fails: number;
  firstFailAt: number;
  /** set while open (or half-open): when it last opened */
  openedAt: number | null;
  /** when the half-open probe was handed out (null: none in flight) */
  probeAt: number | null;
}

export class Breaker {
  /** only deployments that failed lately have an entry: a healthy route costs one Map.size check */
  private readonly health = new Map<number, Health>();
  private readonly clock: Clock;
  readonly options: BreakerOptions;

  constructor(clock: Clock, options: Partial<BreakerOptions> = {}) {
    this.clock = clock;
    this.options = { ...BREAKER_DEFAULTS, ...options };
  }

  /** true when no deployment has failed lately (attempts() then skips the breaker entirely) */
  get quiet(): boolean {
    return this.health.size === 0;
  }

  state(id: number): CircuitState {
    const h = this.health.get(id);
    if (!h || h.openedAt === null) return 'closed';
    return this.clock.now() - h.openedAt >= this.options.coolDownMs ? 'half_open' : 'open';
  }

  /**
   * Whether this deployment may be in a request's try order now: closed; or half-open with no probe
   * in flight. A probe handed out but never reported (its request was cut) is given out again after
   * another cool-down, so a deployment cannot stay out forever.
   */
  usable(id: number): boolean {
    const h = this.health.get(id);
    if (!h || h.openedAt === null) return true;
    const now = this.clock.now();
    if (now - h.openedAt < this.options.coolDownMs) return false;
    return h.probeAt === null || now - h.probeAt >= this.options.coolDownMs;
  }

  /**
   * A request is about to try this deployment first: if it is half-open, that request is THE probe
   * (no other request gets it until this one reports). A half-open deployment further down a try
   * order is not marked: it is reached only when the ones before it failed, and its outcome is
   * reported like any other.
   */
  probing(id: number): void {
    const h = this.health.get(id);
    if (h && h.openedAt !== null && this.clock.now() - h.openedAt >= this.options.coolDownMs) h.probeAt = this.clock.now();
  }

  /** When it last opened (for picking the least recently opened when every deployment is open). */
  openedAt(id: number): number {
    return this.health.get(id)?.openedAt ?? 0;
  }

  /** One attempt's outcome; ok false: a retryable failure (429, 5xx, timeout, connection). */
  report(id: number, ok: boolean): void {
    const h = this.health.get(id);
    if (ok) {
      if (h) this.health.delete(id);
      return;
    }
    const now = this.clock.now();
    if (!h) {
      this.health.set(id, { fails: 1, firstFailAt: now, openedAt: this.options.failures <= 1 ? now : null, probeAt: null });
      return;
    }
    if (h.openedAt !== null) {
      // A failed probe (or a failure of a request let through while open): a new cool-down.
      h.openedAt = now;
      h.probeAt = null;
      return;
    }
    if (now - h.firstFailAt > this.options.windowMs) {
      h.fails = 0;
      h.firstFailAt = now;
    }
    h.fails++;
    if (h.fails >= this.options.failures) h.openedAt = now;
  }
}
