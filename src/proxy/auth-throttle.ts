// Per-IP throttling of failed /v1 authentications: an address that keeps presenting bad keys
// (guessing, or a leaked-key scanner) is refused outright for the rest of the minute, before any
// hashing or lookup. Only failures are counted, so a client with a good key never touches it;
// the table is bounded, so spoofed or rotating addresses cannot grow memory.
import { BoundedCache } from '../cache/bounded-cache.ts';

const MINUTE = 60_000;

export class AuthThrottle {
  private readonly failures = new BoundedCache<string, { since: number; count: number }>(50_000);
  private readonly perMinute: number;

  constructor(perMinute: number) {
    this.perMinute = perMinute;
  }

  /** When the address may try again (ms epoch), or 0 when it may try now. */
  blockedUntil(ip: string, now: number): number {
    if (this.perMinute === 0) return 0;
    const f = this.failures.get(ip);
    return f && f.count >= this.perMinute && now - f.since < MINUTE ? f.since + MINUTE : 0;
  }

  fail(ip: string, now: number): void {
    if (this.perMinute === 0) return;
    const f = this.failures.get(ip);
    if (!f || now - f.since >= MINUTE) this.failures.set(ip, { since: now, count: 1 });
    else f.count++;
  }
}
