// "My Keys" (seed 002's self-service, seed 003's sub-keys; docs/people.md, "Self-service keys"):
//   GET    /api/me/keys               the signed-in user's keys across teams (GET /api/keys' filters and paging)
//   POST   /api/me/keys               {team_id, name, …}: a key owned by the signed-in user, within the team's policy
//   DELETE /api/me/keys/{id}          revokes one of their keys
//   POST   /api/me/keys/{id}/rotate   grace rotation of one of their keys (as /api/keys/{id}/rotate)
// Who may call them is the permission table's answer, as everywhere (403 `forbidden`): another
// member's key is refused here exactly as on /api/keys/{id}. What the table allows but is not the
// caller's own (an admin's or a team owner's view of someone else's key) is not found here: My
// Keys holds the caller's keys only. These routes act as a person: with the master key or a
// management key, which own no keys, they answer 400 (as PUT /api/me/password does).
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';
import type { Actor } from '../http/actor.ts';
import { ApiError, invalid } from '../http/errors.ts';
import { id, idParam, parse } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import type { Action } from '../auth/permissions.ts';
import { findKey, type KeyRow } from '../keys/keys.repository.ts';
import { bodyTeam, createBody, createKey, revoke } from '../keys/keys.routes.ts';
import { rotate, rotateBody } from '../keys/key-rotation.routes.ts';
import { listKeysFor, listQuery } from '../keys/key-listing.routes.ts';
import { createdKeyDoc, keyDoc, keyPageDoc, rotatedKeyDoc } from '../keys/key-docs.ts';
import type { KeyReq } from '../keys/key-lookup.ts';
import { getPolicy } from '../policy/policies.repository.ts';
import { assertWithinPolicy } from './constraints.ts';
import { countLiveKeys, readSelfService } from './self-service.repository.ts';

// The key creation body (limits, expiry, narrowing access rule, …) with a required team and no owner.
const myKeyBody = createBody.omit({ user_id: true, service_account_id: true, team_id: true }).extend({ team_id: id });

/** Fields that would name another owner: refused by name, never silently dropped. */
const OWNER_FIELDS = ['user_id', 'service_account_id'] as const;

/** The signed-in user these routes act as (asked after authorize(): the table decides first). */
function sessionUser(actor: Actor): number {
  if (actor.type !== 'user' || actor.userId === null) {
    throw new ApiError('invalid_request', 'Only a signed-in person has keys of their own: this request was made with a key; use /api/keys and /api/teams/{id}/keys.');
  }
  return actor.userId;
}

export function registerMyKeyRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;

  /** One of the caller's own keys: 404 unknown, 403 as the table decides, 404 someone else's. */
  async function myKey(req: KeyReq, action: Action): Promise<KeyRow> {
    const keyId = idParam(req.params.id, 'key');
    const key = await findKey(db, req.actor.orgId, keyId);
    if (!key) throw new ApiError('not_found', `key ${keyId} not found`);
    authorize(req.actor, action, { teamId: key.team_id, userId: key.user_id });
    if (key.user_id !== sessionUser(req.actor)) throw new ApiError('not_found', `key ${keyId} is not one of your keys`);
    return key;
  }

  api.get('/me/keys', { config: { action: 'key.list', doc: { summary: "The caller's own keys", tag: 'Self-service', query: listQuery, response: keyPageDoc } } }, async (req) => {
    authorize(req.actor, 'key.list');
    return listKeysFor(deps, req.actor, req.query, { ownerId: sessionUser(req.actor) });
  });

  api.post('/me/keys', { config: { action: 'key.create_self', doc: { summary: 'Create one of my own keys in a team (within its self-service policy and my allocation)', description: 'The secret (key) is in this answer only.', tag: 'Self-service', body: myKeyBody.meta({ examples: [{ name: 'notebook', team_id: 1, max_budget_usd: 5 }] }), response: createdKeyDoc, status: 201 } } }, async (req, reply) => {
    const actor = req.actor;
    // Whether the caller may create their own keys at all (a member of some team), before the body.
    authorize(actor, 'key.create_self');
    const userId = sessionUser(actor);
    const raw = req.body;
    const teamId = await bodyTeam(deps, actor.orgId, raw);
    if (teamId === null) throw invalid('team_id', 'required: a self-service key belongs to one of your teams');
    authorize(actor, 'key.create_self', { teamId });
    for (const field of OWNER_FIELDS) {
      if (raw !== null && typeof raw === 'object' && Object.hasOwn(raw, field)) {
        throw invalid(field, 'not accepted here: a key created through /api/me/keys is always owned by the signed-in user');
      }
    }
    const input = parse(myKeyBody, raw);
    const created = await createKey(deps, actor, teamId, { ...input, user_id: userId }, {
      // Inside the creating transaction, the team's self-service row locked: the policy read is
      // the one in force, and the member's key count cannot be raced past max_keys_per_user.
      check: async (trx, at) => {
        const now = Date.parse(at);
        const { policy } = await readSelfService(trx, teamId, deps.db.dialect);
        const teamLimits = await getPolicy(trx, `team:${teamId}`);
        await assertWithinPolicy({ actor, teamId, policy, teamLimits, ask: input, now, liveKeys: () => countLiveKeys(trx, teamId, userId, now) });
      },
      auditAfter: { self_service: true },
    });
    return reply.code(201).send(created);
  });

  api.delete('/me/keys/:id', { config: { action: 'key.revoke', doc: { summary: 'Revoke one of my keys', tag: 'Self-service', response: keyDoc } } }, async (req: KeyReq) => revoke(deps, req.actor, await myKey(req, 'key.revoke')));

  api.post('/me/keys/:id/rotate', { config: { action: 'key.rotate', ownIdempotency: true, doc: { summary: "Rotate one of my keys' secret", tag: 'Self-service', body: rotateBody, response: rotatedKeyDoc, status: 201 } } }, async (req: KeyReq, reply) => {
    const { result, replayed } = await rotate(deps, req, await myKey(req, 'key.rotate'));
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(replayed ? 200 : 201).send(result);
  });
}
