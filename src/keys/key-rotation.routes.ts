// Rotation (docs/api.md, "Rotation"):
//   POST   /api/keys/{id}/rotate, /api/teams/{id}/keys/{keyId}/rotate   {grace_period_seconds?}
//          + optional Idempotency-Key header
//   GET    /api/keys/{id}/secrets                 current and older secrets, each one's last use
//   DELETE /api/keys/{id}/secrets/{secretId}      ends an older secret's grace period now
//   GET / PUT / DELETE /api/keys/{id}/rotation-schedule   {rotate_every_days, grace_period_seconds?}
// The key is looked up (404 for another organization's) before the body is read.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import { ApiError } from '../http/errors.ts';
import { idParam, parse } from '../http/validate.ts';
import { idempotencyKeyOf } from '../http/idempotency.ts';
import { applyChange } from '../audit/change.ts';
import type { KeyRow } from './keys.repository.ts';
import { keyOf, teamKeyOf, type KeyReq, type TeamKeyReq } from './key-lookup.ts';
import { endSecret, findSchedule, findSecret, listSecrets } from './key-secrets.repository.ts';
import { MAX_GRACE_SECONDS, oldSecretView, rotateByAdmin, secretViews } from './key-rotation.ts';
import { rotatedKeyDoc, scheduleDoc, secretDoc, secretsDoc } from './key-docs.ts';
import { MAX_ROTATE_EVERY_DAYS, removeSchedule, scheduleView, setSchedule } from './rotation-schedule.ts';

const graceSeconds = z.number().int().min(0).max(MAX_GRACE_SECONDS, `must be at most ${MAX_GRACE_SECONDS} (30 days)`);
export const rotateBody = z.strictObject({ grace_period_seconds: graceSeconds.optional() });
const scheduleBody = z.strictObject({
  rotate_every_days: z.number().int().min(1).max(MAX_ROTATE_EVERY_DAYS),
  grace_period_seconds: graceSeconds.optional(),
});

/** POST …/rotate on a key already looked up and authorized (also /api/me/keys/{id}/rotate). */
export async function rotate(deps: Deps, req: FastifyRequest, key: KeyRow) {
  const input = parse(rotateBody, req.body);
  return rotateByAdmin(deps, req.actor, key, input.grace_period_seconds ?? 0, idempotencyKeyOf(req));
}

type SecretReq = FastifyRequest<{ Params: { id: string; secretId: string } }>;

async function endEarly(deps: Deps, actor: Actor, key: KeyRow, secretId: number) {
  const secret = await findSecret(deps.db.kysely, key.id, secretId);
  if (!secret) throw new ApiError('not_found', `secret ${secretId} not found for key ${key.id}`);
  const now = deps.clock.now();
  if (secret.ended_at !== null) return oldSecretView(secret, key, now);
  return applyChange(deps, actor, async (trx, at) => {
    const row = await endSecret(trx, secret, at);
    const before = oldSecretView(secret, key, now);
    const after = oldSecretView(row, key, now);
    return {
      result: after,
      audit: [{ orgId: key.org_id, teamId: key.team_id, action: 'key.secret.end', targetType: 'key', targetId: key.id, before, after }],
      // Replicas holding the old secret's context drop it; the next lookup no longer finds it.
      invalidate: [{ kind: 'key', keyId: key.id }],
    };
  });
}

export function registerKeyRotationRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;
  api.post('/teams/:id/keys/:keyId/rotate', { config: { action: 'key.rotate', ownIdempotency: true, doc: { summary: "Rotate a team key's secret", description: 'The old secret keeps working for grace_period_seconds. With an Idempotency-Key, a retry answers 200 with the same rotation, without the secret.', tag: 'Rotation', body: rotateBody, response: rotatedKeyDoc, status: 201 } } }, async (req: TeamKeyReq, reply) => {
    const { result, replayed } = await rotate(deps, req, await teamKeyOf(deps, req, 'key.rotate'));
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(replayed ? 200 : 201).send(result);
  });
  api.post('/keys/:id/rotate', { config: { action: 'key.rotate', ownIdempotency: true, doc: { summary: "Rotate a key's secret", description: 'The old secret keeps working for grace_period_seconds. With an Idempotency-Key, a retry answers 200 with the same rotation, without the secret.', tag: 'Rotation', body: rotateBody, response: rotatedKeyDoc, status: 201 } } }, async (req: KeyReq, reply) => {
    const { result, replayed } = await rotate(deps, req, await keyOf(deps, req, 'key.rotate'));
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(replayed ? 200 : 201).send(result);
  });

  api.get('/keys/:id/secrets', { config: { action: 'key.read', doc: { summary: "A key's current and older secrets, each one's last use", tag: 'Rotation', response: secretsDoc } } }, async (req: KeyReq) => {
    const key = await keyOf(deps, req, 'key.read');
    const [old, schedule] = await Promise.all([listSecrets(db, key.id), findSchedule(db, key.id)]);
    return { data: await secretViews(deps, key, old), rotation_schedule: scheduleView(key.id, schedule) };
  });
  api.delete('/keys/:id/secrets/:secretId', { config: { action: 'key.rotate', doc: { summary: "End an older secret's grace period now", tag: 'Rotation', response: secretDoc } } }, async (req: SecretReq) => {
    const key = await keyOf(deps, req, 'key.rotate');
    return endEarly(deps, req.actor, key, idParam(req.params.secretId, 'secret'));
  });

  api.get('/keys/:id/rotation-schedule', { config: { action: 'key.read', doc: { summary: "A key's rotation schedule", tag: 'Rotation', response: scheduleDoc } } }, async (req: KeyReq) => {
    const key = await keyOf(deps, req, 'key.read');
    return scheduleView(key.id, await findSchedule(db, key.id));
  });
  api.put('/keys/:id/rotation-schedule', { config: { action: 'key.update', doc: { summary: 'Rotate a key every N days', tag: 'Rotation', body: scheduleBody, response: scheduleDoc } } }, async (req: KeyReq) => {
    const key = await keyOf(deps, req, 'key.update');
    const input = parse(scheduleBody, req.body);
    return setSchedule(deps, req.actor, key, input.rotate_every_days, input.grace_period_seconds);
  });
  api.delete('/keys/:id/rotation-schedule', { config: { action: 'key.update', doc: { summary: "Stop a key's scheduled rotation", tag: 'Rotation', response: scheduleDoc } } }, async (req: KeyReq) => removeSchedule(deps, req.actor, await keyOf(deps, req, 'key.update')));
}
