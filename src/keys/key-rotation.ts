// Rotation of a key's secret by an admin (POST …/rotate), with a grace period during which the
// old secret keeps working, an optional Idempotency-Key, and the views of a key's secrets.
// Scheduled rotation (keys/rotation-scheduler.ts) uses the same rotateKey().
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import { ApiError } from '../http/errors.ts';
import { iso } from '../clock.ts';
import { applyChange } from '../audit/change.ts';
import { keyView, rotateKey, type KeyRow, type KeyView } from './keys.repository.ts';
import { currentSecretIssuedAt, findKeySecret, findRotationRequest, restartSchedule, saveRotationRequest, type RotationRequestRow, type SecretRow } from './key-secrets.repository.ts';

/** The longest grace period: an old secret is not a second key. */
export const MAX_GRACE_SECONDS = 30 * 86_400;
/** How long a retried rotate with the same Idempotency-Key answers with the first one's result. */
const IDEMPOTENCY_TTL_MS = 86_400_000;

export interface SecretView {
  /** null: the key's current secret; otherwise the id to end it early with */
  id: number | null;
  key_prefix: string;
  status: 'current' | 'grace' | 'ended';
  /** when it was issued */
  created_at: string;
  /** when a rotation replaced it (null: current) */
  replaced_at: string | null;
  /** when its grace period ends or ended (null: current) */
  valid_until: string | null;
  ended_at: string | null;
  last_used_at: string | null;
}

export function oldSecretView(s: SecretRow, key: Pick<KeyRow, 'status'>, nowMs: number): SecretView {
  const over = s.ended_at !== null || Date.parse(s.valid_until) <= nowMs || key.status === 'revoked';
  return { id: s.id, key_prefix: s.key_prefix, status: over ? 'ended' : 'grace', created_at: s.issued_at, replaced_at: s.created_at, valid_until: s.valid_until, ended_at: s.ended_at, last_used_at: s.last_used_at };
}

/** The current secret: api_keys.last_used_at is its own once at least as recent as its issue. */
export function currentSecretView(key: KeyRow, issuedAt: string): SecretView {
  const lastUsed = key.last_used_at !== null && key.last_used_at >= issuedAt ? key.last_used_at : null;
  return { id: null, key_prefix: key.key_prefix, status: 'current', created_at: issuedAt, replaced_at: null, valid_until: null, ended_at: null, last_used_at: lastUsed };
}

export type RotateResult = KeyView & {
  /** the new secret: in the first answer only, never in a replay */
  key?: string;
  rotated_at: string;
  previous_secret: { id: number; key_prefix: string; valid_until: string };
};

const previousOf = (s: SecretRow) => ({ id: s.id, key_prefix: s.key_prefix, valid_until: s.valid_until });

/** A retried rotate: the first one's metadata (the prefix of the secret it issued), no secret. */
async function replay(deps: Deps, key: KeyRow, req: RotationRequestRow, graceSeconds: number): Promise<RotateResult> {
  if (req.grace_period_seconds !== graceSeconds) {
    throw new ApiError('conflict', `Idempotency-Key: already used for a rotation of key ${key.id} with grace_period_seconds ${req.grace_period_seconds}`, 'Idempotency-Key');
  }
  const db = deps.db.kysely;
  const [row, previous] = await Promise.all([db.selectFrom('api_keys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow(), findKeySecret(db, req.secret_id)]);
  if (!previous) throw new Error(`key_rotation_requests names a missing secret ${req.secret_id}`);
  return { ...keyView(row), key_prefix: req.key_prefix, rotated_at: req.rotated_at, previous_secret: previousOf(previous) };
}

/**
 * Rotates by an admin. Returns `replayed: true` when an earlier rotate with the same
 * Idempotency-Key answered already (or is answering right now, racing this one): nothing rotates.
 */
export async function rotateByAdmin(deps: Deps, actor: Actor, key: KeyRow, graceSeconds: number, idempotencyKey: string | undefined): Promise<{ result: RotateResult; replayed: boolean }> {
  const db = deps.db.kysely;
  const prior = async () => (idempotencyKey === undefined ? undefined : findRotationRequest(db, key.id, idempotencyKey, iso(deps.clock.now())));
  const before = await prior();
  if (before) return { result: await replay(deps, key, before, graceSeconds), replayed: true };
  try {
    const result = await applyChange(deps, actor, async (trx, at) => {
      const { row, secret, previous } = await rotateKey(trx, key, graceSeconds, at);
      await restartSchedule(trx, key.id, at);
      if (idempotencyKey !== undefined) {
        const expires = iso(Date.parse(at) + IDEMPOTENCY_TTL_MS);
        await saveRotationRequest(trx, { key_id: key.id, idempotency_key: idempotencyKey, grace_period_seconds: graceSeconds, secret_id: previous.id, key_prefix: row.key_prefix, rotated_at: at, expires_at: expires });
      }
      return {
        result: { ...keyView(row), key: secret, rotated_at: at, previous_secret: previousOf(previous) },
        audit: [{ orgId: key.org_id, teamId: key.team_id, action: 'key.rotate', targetType: 'key', targetId: key.id, before: keyView(key), after: { ...keyView(row), grace_period_seconds: graceSeconds, previous_secret: previousOf(previous) } }],
        invalidate: [{ kind: 'key', keyId: key.id }],
      };
    });
    return { result, replayed: false };
  } catch (err) {
    // The same Idempotency-Key racing: the loser's swap or insert failed; answer with the winner's.
    const winner = await prior();
    if (winner) return { result: await replay(deps, key, winner, graceSeconds), replayed: true };
    throw err;
  }
}

/** GET …/secrets: the current secret first, then older ones, newest first. */
export async function secretViews(deps: Deps, key: KeyRow, old: SecretRow[]): Promise<SecretView[]> {
  const now = deps.clock.now();
  return [currentSecretView(key, await currentSecretIssuedAt(deps.db.kysely, key)), ...old.map((s) => oldSecretView(s, key, now))];
}
