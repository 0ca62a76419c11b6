// Tracks /v1 requests still inside the pipeline, so shutdown can wait until every one has settled
// its reservation and enqueued its log row — after the response ended, not just when it ended.
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();
  /** set when shutdown begins: new /v1 requests on kept-alive connections are turned away */
  closing = false;

  track<T>(p: Promise<T>): Promise<T> {
    this.pending.add(p);
    const done = () => this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  get size(): number {
    return this.pending.size;
  }

  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
