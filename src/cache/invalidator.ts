// Cache invalidation events. Admin changes publish; every replica's caches subscribe.
// In embedded mode delivery is synchronous and in-process; in cluster mode it also goes over
// Redis pub/sub (cache/redis-invalidator.ts) so all replicas drop the entry within a second.
export type Invalidation =
  | { kind: 'key'; keyId: number }
  | { kind: 'team'; teamId: number }
  | { kind: 'org'; orgId: number }
  | { kind: 'routes'; orgId: number }
  /** an org's access rules or access groups changed: its keys recompile their model sets */
  | { kind: 'access'; orgId: number }
  | { kind: 'policy'; scope: string }
  | { kind: 'all' };

export interface Invalidator {
  publish(event: Invalidation): Promise<void>;
  subscribe(handler: (event: Invalidation) => void): void;
  /** Whether events from other replicas are being received (for /readyz); absent in-process. */
  ping?(): Promise<boolean>;
  close(): Promise<void>;
}

export class LocalInvalidator implements Invalidator {
  private readonly handlers: Array<(event: Invalidation) => void> = [];
  async publish(event: Invalidation): Promise<void> {
    this.deliver(event);
  }
  subscribe(handler: (event: Invalidation) => void): void {
    this.handlers.push(handler);
  }
  /** Runs the local handlers; the Redis invalidator calls this for messages from other replicas. */
  deliver(event: Invalidation): void {
    for (const h of this.handlers) h(event);
  }
  async close(): Promise<void> {}
}
