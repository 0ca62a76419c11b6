// Rotation: POST /api/keys/{id}/rotate and /api/teams/{id}/keys/{keyId}/rotate.
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.ts';
import { actorRef, type Actor } from '../http/actor.ts';
import { applyChange } from '../audit/change.ts';
import { keyView, rotateKey, type KeyRow } from './keys.repository.ts';
import { keyOf, teamKeyOf, type KeyReq, type TeamKeyReq } from './key-lookup.ts';

async function rotate(deps: Deps, actor: Actor, key: KeyRow) {
  return applyChange(deps, actor, async (trx, at) => {
    const { row, secret } = await rotateKey(trx, key, actorRef(actor), at);
    return {
      result: { ...keyView(row), key: secret, rotated_from: key.id },
      audit: [{ orgId: key.org_id, teamId: key.team_id, action: 'key.rotate', targetType: 'key', targetId: row.id, before: keyView(key), after: keyView(row) }],
      invalidate: [{ kind: 'key', keyId: key.id }],
    };
  });
}

export function registerKeyRotationRoutes(api: FastifyInstance, deps: Deps): void {
  api.post('/teams/:id/keys/:keyId/rotate', async (req: TeamKeyReq, reply) => reply.code(201).send(await rotate(deps, req.actor, await teamKeyOf(deps, req))));
  api.post('/keys/:id/rotate', async (req: KeyReq, reply) => reply.code(201).send(await rotate(deps, req.actor, await keyOf(deps, req))));
}
