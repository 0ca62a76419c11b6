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
// It applies to every route that creates something (POST answering 201) and to every rotate, by
// construction: registerIdempotency() adds its hooks to each such route as it is registered. A
// replay still asks authorize() for the route's action (a caller who lost the right gets 403; the
// record itself is the caller's own, in its own organization). Rotating an API key keeps its own
// record, in the rotation's transaction (keys/key-rotation.ts: `ownIdempotency`).
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Kysely } from 'kysely';
import type { Deps } from '../deps.ts';
import type { Database } from '../db/types.ts';
import { iso } from '../clock.ts';
import { actorRef } from './actor.ts';
import { ApiError, invalid } from './errors.ts';
import { authorize } from '../auth/authorize.ts';
import { isAction } from '../auth/permissions.ts';
import type { RouteDoc } from './route-doc.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the route reads Idempotency-Key itself (API key rotation: keys/key-rotation.ts) */
    ownIdempotency?: boolean;
  }
}

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

/** Top-level response fields holding a secret shown once: never stored, left out of a replay. */
export const SECRET_FIELDS = ['key', 'admin_key', 'token', 'url', 'password'] as const;

/** The routes that take an Idempotency-Key: creates (POST answering 201) and rotations. */
export function takesIdempotencyKey(r: { method: string; url: string; doc?: RouteDoc }): boolean {
  return r.method === 'POST' && (r.doc?.status === 201 || r.url.endsWith('/rotate'));
}

interface Claim {
  org_id: number;
  actor: string;
  idempotency_key: string;
}
const claims = new WeakMap<FastifyRequest, Claim>();

/** Call inside the /api scope before any route is registered. */
export function registerIdempotency(api: FastifyInstance, deps: Deps): void {
  api.addHook('onRoute', (r: RouteOptions) => {
    const config = (r.config ?? {}) as { doc?: RouteDoc; ownIdempotency?: boolean; action?: string };
    const methods = [r.method].flat();
    if (config.ownIdempotency || !methods.some((method) => takesIdempotencyKey({ method, url: r.url, doc: config.doc }))) return;
    r.preHandler = [...[r.preHandler ?? []].flat(), (req, reply) => claimOrReplay(deps, req, reply, config.action)];
    r.onSend = [...[r.onSend ?? []].flat(), (req, reply, payload) => settle(deps, req, reply, payload)];
  });
}

const where = (db: IdempotencyDb, c: Claim) => db.selectFrom('idempotency_records').where('org_id', '=', c.org_id).where('actor', '=', c.actor).where('idempotency_key', '=', c.idempotency_key);

async function claimOrReplay(deps: Deps, req: FastifyRequest, reply: FastifyReply, action: string | undefined): Promise<FastifyReply | undefined> {
  const key = idempotencyKeyOf(req);
  if (key === undefined || !req.actor) return undefined;
  const db = records(deps.db.kysely);
  const claim: Claim = { org_id: req.actor.orgId, actor: actorRef(req.actor), idempotency_key: key };
  const hash = requestHash(req);
  const nowMs = deps.clock.now();
  const now = iso(nowMs);
  // An expired record is gone for good: a new request with its key starts afresh.
  await db.deleteFrom('idempotency_records').where('org_id', '=', claim.org_id).where('actor', '=', claim.actor).where('idempotency_key', '=', key).where('expires_at', '<=', now).execute();
  const claimed = await db
    .insertInto('idempotency_records')
    .values({ ...claim, request_hash: hash, status: null, body: null, omitted: null, created_at: now, expires_at: iso(nowMs + IDEMPOTENCY_TTL_MS) })
    .onConflict((oc) => oc.columns(['org_id', 'actor', 'idempotency_key']).doNothing())
    .returning('org_id')
    .executeTakeFirst();
  if (claimed) {
    claims.set(req, claim);
    pruneNowAndThen(deps, db, nowMs, req);
    return undefined;
  }
  const row = await firstAnswer(db, claim, hash);
  // The caller still holds the right to what it replays (the first answer was authorized then).
  if (action !== undefined && isAction(action)) authorize(req.actor, action);
  reply.header('idempotent-replayed', 'true');
  if (row.omitted !== null) reply.header('idempotent-secret-omitted', (JSON.parse(row.omitted) as string[]).join(','));
  return reply.code(row.status).type('application/json').send(row.body);
}

/** The stored first answer, waiting for it while the first request still runs. */
async function firstAnswer(db: IdempotencyDb, claim: Claim, hash: string): Promise<{ status: number; body: string; omitted: string | null }> {
  const until = Date.now() + WAIT_MS;
  for (;;) {
    const row = await where(db, claim).select(['request_hash', 'status', 'body', 'omitted']).executeTakeFirst();
    // The first request failed meanwhile (its record is gone): this one is refused rather than
    // racing a third; the client's next retry runs normally.
    if (!row) throw new ApiError('conflict', 'Idempotency-Key: the first request with this key failed meanwhile; retry it', 'Idempotency-Key');
    if (row.request_hash !== hash) throw new ApiError('conflict', 'Idempotency-Key: already used for a different request (another body or route) in the last 24 hours', 'Idempotency-Key');
    if (row.status !== null && row.body !== null) return { status: row.status, body: row.body, omitted: row.omitted };
    if (Date.now() >= until) throw new ApiError('conflict', 'Idempotency-Key: a request with this key is still in progress (or was interrupted); retry later, or with a new key once you checked nothing was created', 'Idempotency-Key');
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** onSend of the claiming request: a success is stored (without its secrets); a failure frees the key. */
async function settle(deps: Deps, req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  const claim = claims.get(req);
  if (!claim) return payload;
  claims.delete(req);
  const db = records(deps.db.kysely);
  const ok = reply.statusCode >= 200 && reply.statusCode < 300 && typeof payload === 'string';
  if (!ok) {
    // Nothing was made (the create's transaction rolled back): the key is free for a retry.
    await db.deleteFrom('idempotency_records').where('org_id', '=', claim.org_id).where('actor', '=', claim.actor).where('idempotency_key', '=', claim.idempotency_key).execute();
    return payload;
  }
  const { stored, omitted } = withoutSecrets(payload);
  await db
    .updateTable('idempotency_records')
    .set({ status: reply.statusCode, body: stored, omitted: omitted.length > 0 ? JSON.stringify(omitted) : null })
    .where('org_id', '=', claim.org_id)
    .where('actor', '=', claim.actor)
    .where('idempotency_key', '=', claim.idempotency_key)
    .execute();
  return payload;
}

function withoutSecrets(payload: string): { stored: string; omitted: string[] } {
  const parsed = JSON.parse(payload) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { stored: payload, omitted: [] };
  const copy = parsed as Record<string, unknown>;
  const omitted = SECRET_FIELDS.filter((f) => f in copy);
  if (omitted.length === 0) return { stored: payload, omitted: [] };
  for (const f of omitted) delete copy[f];
  return { stored: JSON.stringify(copy), omitted };
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
