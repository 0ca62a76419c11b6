// Idempotency-Key on the routes that create something (docs/automation.md, "Retries"). A client
// that did not see an answer (a timeout, a dropped connection) sends the same request again with
// the same key and gets the first answer back instead of a second object:
//   - the first request claims (org, caller, key) with its request hash and runs; its status and
//     body are stored for 24 hours, without the fields holding a secret (a new API key is shown
//     exactly once: a replay leaves it out and names it in `idempotent-secret-omitted`);
//   - the same key, caller and request again: the stored answer, `idempotent-replayed: true`;
//   - the same key with another request (body, route): 409 conflict naming Idempotency-Key;
//   - while the first one still runs, a duplicate waits for its answer (a few seconds), so two
//     racing requests make one object; a first request that failed (4xx/5xx) leaves no record.
// The routes call it after their authorize(): a caller who lost the right gets a 403, not a replay.
// Rotating an API key keeps its own record, in the rotation's transaction (keys/key-rotation.ts).
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Deps } from '../deps.ts';
import type { Database } from '../db/types.ts';
import { iso } from '../clock.ts';
import { actorRef } from './actor.ts';
import { ApiError, invalid } from './errors.ts';

export const IDEMPOTENCY_TTL_MS = 86_400_000;
/** How long a duplicate waits for the first request's answer before a 409 (a create takes milliseconds). */
const WAIT_MS = 10_000;
const POLL_MS = 25;

interface IdempotencyRecordsTable {
  org_id: number;
  actor: string;
  idempotency_key: string;
  request_hash: string;
  status: number | null;
  body: string | null;
  omitted: string | null;
  created_at: string;
  expires_at: string;
}

type IdempotencyDb = Kysely<Database & { idempotency_records: IdempotencyRecordsTable }>;
const records = (db: Kysely<Database>): IdempotencyDb => db.$extendTables<{ idempotency_records: IdempotencyRecordsTable }>();

/** The Idempotency-Key header: 1–255 visible ASCII characters (a UUID, typically), one header. */
export function idempotencyKeyOf(req: FastifyRequest): string | undefined {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(raw)) throw invalid('Idempotency-Key', 'must be one header of 1 to 255 visible ASCII characters');
  return raw;
}

/** Keys sorted at every level: the same JSON object sent with its fields in another order is the same request. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
}

function requestHash(req: FastifyRequest): string {
  const route = `${req.method} ${req.url.split('?')[0]}`;
  return createHash('sha256').update(route).update('\n').update(JSON.stringify(canonical(req.body ?? null))).digest('hex');
}

export interface IdempotentOptions {
  /** the success status (201 for a create) */
  status: number;
  /** top-level response fields that hold a secret: never stored, left out of a replay */
  secretFields?: readonly string[];
}

/**
 * Runs `create` once per Idempotency-Key and answers with its result (or the stored one). Without
 * the header it simply runs. Call it after the route's authorize() and input checks.
 */
export async function idempotent(deps: Deps, req: FastifyRequest, reply: FastifyReply, opts: IdempotentOptions, create: () => Promise<unknown>): Promise<FastifyReply> {
  const key = idempotencyKeyOf(req);
  if (key === undefined) return reply.code(opts.status).send(await create());
  const db = records(deps.db.kysely);
  const id = { org_id: req.actor.orgId, actor: actorRef(req.actor), idempotency_key: key };
  const hash = requestHash(req);
  const nowMs = deps.clock.now();
  const now = iso(nowMs);
  // An expired record is gone for good: a new request with its key starts afresh.
  await db.deleteFrom('idempotency_records').where('org_id', '=', id.org_id).where('actor', '=', id.actor).where('idempotency_key', '=', key).where('expires_at', '<=', now).execute();
  const claimed = await db
    .insertInto('idempotency_records')
    .values({ ...id, request_hash: hash, status: null, body: null, omitted: null, created_at: now, expires_at: iso(nowMs + IDEMPOTENCY_TTL_MS) })
    .onConflict((oc) => oc.columns(['org_id', 'actor', 'idempotency_key']).doNothing())
    .returning('org_id')
    .executeTakeFirst();
  if (!claimed) return replay(deps, db, id, hash, reply);

  let result: unknown;
  try {
    result = await create();
  } catch (err) {
    // Nothing was made (the create's transaction rolled back): the key is free for a retry.
    await db.deleteFrom('idempotency_records').where('org_id', '=', id.org_id).where('actor', '=', id.actor).where('idempotency_key', '=', key).execute();
    throw err;
  }
  const { stored, omitted } = withoutSecrets(result, opts.secretFields ?? []);
  await db
    .updateTable('idempotency_records')
    .set({ status: opts.status, body: JSON.stringify(stored), omitted: omitted.length > 0 ? JSON.stringify(omitted) : null })
    .where('org_id', '=', id.org_id)
    .where('actor', '=', id.actor)
    .where('idempotency_key', '=', key)
    .execute();
  pruneNowAndThen(deps, db, nowMs, req);
  return reply.code(opts.status).send(result);
}

function withoutSecrets(result: unknown, fields: readonly string[]): { stored: unknown; omitted: string[] } {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return { stored: result, omitted: [] };
  const copy: Record<string, unknown> = { ...(result as Record<string, unknown>) };
  const omitted = fields.filter((f) => f in copy);
  for (const f of omitted) delete copy[f];
  return { stored: copy, omitted };
}

async function replay(deps: Deps, db: IdempotencyDb, id: { org_id: number; actor: string; idempotency_key: string }, hash: string, reply: FastifyReply): Promise<FastifyReply> {
  const until = Date.now() + WAIT_MS;
  for (;;) {
    const row = await db.selectFrom('idempotency_records').selectAll().where('org_id', '=', id.org_id).where('actor', '=', id.actor).where('idempotency_key', '=', id.idempotency_key).executeTakeFirst();
    // The first request failed meanwhile (its record is gone): this one is refused rather than
    // racing a third; the client's next retry runs normally.
    if (!row) throw new ApiError('conflict', 'Idempotency-Key: the first request with this key failed; retry it', 'Idempotency-Key');
    if (row.request_hash !== hash) throw new ApiError('conflict', 'Idempotency-Key: already used for a different request (another body or route) in the last 24 hours', 'Idempotency-Key');
    if (row.status !== null && row.body !== null) {
      reply.header('idempotent-replayed', 'true');
      if (row.omitted !== null) reply.header('idempotent-secret-omitted', (JSON.parse(row.omitted) as string[]).join(','));
      return reply.code(row.status).type('application/json').send(row.body);
    }
    if (Date.now() >= until) throw new ApiError('conflict', 'Idempotency-Key: a request with this key is still in progress (or was interrupted); retry later, or with a new key once you checked nothing was created', 'Idempotency-Key');
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Expired records of every caller are deleted at most once an hour per process, off the answer. */
const lastPrune = new WeakMap<Deps, number>();
function pruneNowAndThen(deps: Deps, db: IdempotencyDb, nowMs: number, req: FastifyRequest): void {
  if (nowMs - (lastPrune.get(deps) ?? 0) < 3_600_000) return;
  lastPrune.set(deps, nowMs);
  db.deleteFrom('idempotency_records')
    .where('expires_at', '<=', iso(nowMs))
    .execute()
    .catch((err: unknown) => req.log.warn({ err: { message: (err as Error).message } }, 'idempotency prune failed'));
}
