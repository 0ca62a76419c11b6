// A per-replica ceiling on one organization's requests in flight (TOLLGATE_ORG_MAX_PARALLEL,
// default 512), whatever its own limits say: no tenant can hold all of a replica's upstream
// capacity or memory. It is counted in process, so it costs no counter-store round trip and keeps
// working while Redis is down; an organization's own max_parallel_requests (global, through the
// counter store) applies on top of it.
export class OrgSlots {
  private readonly inFlight = new Map<number, number>();
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  acquire(orgId: number): boolean {
    if (this.limit === 0) return true;
    const n = this.inFlight.get(orgId) ?? 0;
    if (n >= this.limit) return false;
    this.inFlight.set(orgId, n + 1);
    return true;
  }

  release(orgId: number): void {
    if (this.limit === 0) return;
    const n = this.inFlight.get(orgId) ?? 0;
    if (n <= 1) this.inFlight.delete(orgId);
    else this.inFlight.set(orgId, n - 1);
  }

  held(orgId: number): number {
    return this.inFlight.get(orgId) ?? 0;
  }
}
