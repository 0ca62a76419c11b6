// Cache invalidation across replicas (cluster mode). publish() delivers to this replica's caches at
// once, then broadcasts on a Redis pub/sub channel; every other replica's subscriber delivers it to
// its own caches. Messages carry the sender's replica id, so a replica ignores its own echo.
//
// Pub/sub is fire-and-forget, so two gaps are closed here:
//   - a subscriber that was disconnected may have missed events: when it is back, it drops every
//     local cache entry ({kind: 'all'}); the next requests reload from the database;
//   - a publish that fails (Redis down) is kept (bounded) and re-sent when the connection is back,
//     so the admin change that caused it still reaches the other replicas. publish() never
//     rejects: the change is already committed.
import { randomUUID } from 'node:crypto';
import { LocalInvalidator, type Invalidation, type Invalidator } from './invalidator.ts';
import { closeRedis, type RedisClient, type Subscriber } from '../redis.ts';

const KINDS = new Set(['key', 'team', 'org', 'routes', 'access', 'policy', 'all']);
/** Beyond this many unsent events, they collapse into one {kind: 'all'}. */
const PENDING_MAX = 1000;
const RETRY_MS = 500;

export interface RedisInvalidatorOptions {
  /** a normal connection, for PUBLISH (on a cluster, PUBLISH reaches the subscribers of every node) */
  pub: RedisClient;
  /** a connection of its own, put in subscriber mode (see openSubscriber()); on a cluster it hops
   *  to another node when its node dies, and emits 'ready' again */
  sub: Subscriber;
  /** e.g. "tg:invalidate" */
  channel: string;
  onError?: (err: unknown) => void;
}

export class RedisInvalidator implements Invalidator {
  readonly replicaId = randomUUID();
  private readonly local = new LocalInvalidator();
  private readonly pub: RedisClient;
  private readonly sub: Subscriber;
  private readonly channel: string;
  private readonly onError: (err: unknown) => void;
  private pending: Invalidation[] = [];
  private retry: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private subscribedOnce = false;
  private closed = false;

  /** Takes ownership of both connections: close() closes them. */
  constructor(opts: RedisInvalidatorOptions) {
    this.pub = opts.pub;
    this.sub = opts.sub;
    this.channel = opts.channel;
    this.onError = opts.onError ?? (() => {});
    this.sub.on('ready', () => this.onSubscriberReady());
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.onMessage(message);
    });
    if (this.sub.status === 'ready') this.onSubscriberReady();
    this.pub.on('ready', () => this.flushPending());
  }

  async publish(event: Invalidation): Promise<void> {
    this.local.deliver(event);
    this.pending.push(event);
    await this.flushPending();
  }

  subscribe(handler: (event: Invalidation) => void): void {
    this.local.subscribe(handler);
  }

  /** Whether this replica currently hears the other replicas' invalidations. */
  async ping(): Promise<boolean> {
    return this.sub.status === 'ready' && this.subscribedOnce;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.flushPending();
    await Promise.all([closeRedis(this.pub), closeRedis(this.sub)]);
  }

  /** One sender at a time, so events go out once and in order. */
  private flushPending(): Promise<void> {
    this.flushing ??= this.drain();
    return this.flushing;
  }

  private async drain(): Promise<void> {
    await Promise.resolve(); // flushPending() stores this promise before the loop can end it
    while (this.pending.length > 0) {
      try {
        await this.pub.publish(this.channel, JSON.stringify({ from: this.replicaId, event: this.pending[0] }));
      } catch (err) {
        this.flushing = undefined;
        if (this.pending.length > PENDING_MAX) this.pending = [{ kind: 'all' }];
        if (!this.closed) {
          this.onError(err);
          clearTimeout(this.retry);
          this.retry = setTimeout(() => void this.flushPending(), RETRY_MS);
          this.retry.unref();
        }
        return;
      }
      this.pending.shift();
    }
    this.flushing = undefined;
  }

  private onSubscriberReady(): void {
    this.sub.subscribe(this.channel).then(
      () => {
        // Back after a disconnection: events sent meanwhile are lost, so forget everything cached.
        if (this.subscribedOnce) this.local.deliver({ kind: 'all' });
        this.subscribedOnce = true;
      },
      (err: unknown) => this.onError(err),
    );
  }

  private onMessage(message: string): void {
    let parsed: { from?: unknown; event?: { kind?: unknown } };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    if (parsed.from === this.replicaId || typeof parsed.event?.kind !== 'string' || !KINDS.has(parsed.event.kind)) return;
    this.local.deliver(parsed.event as Invalidation);
  }
}
