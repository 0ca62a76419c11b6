// A team's self-service policy (seed 002; docs/people.md, "Self-service keys"):
//   GET /api/teams/{id}/self-service   {team_id, enabled, max_keys_per_user, max_budget_usd, require_expiry, max_expiry_days, updated_at}
//   PUT /api/teams/{id}/self-service   the same fields; PUT replaces (an omitted field takes its default: off, no cap)
// Team owners and admins write it (team.self_service.write); the team's members read it, to see
// the bounds their keys must fit in.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { parse } from '../http/validate.ts';
import { applyChange } from '../audit/change.ts';
import { authorizedTeam } from '../teams/team-access.ts';
import { toMicro } from '../policy/policy-input.ts';
import { HORIZON_YEARS } from '../http/timestamps.ts';
import { readSelfService, saveSelfService, selfServiceView, type SelfServicePolicy } from './self-service.repository.ts';

// A key expires at most HORIZON_YEARS ahead anyway (http/timestamps.ts).
const MAX_EXPIRY_DAYS = HORIZON_YEARS * 365;

const policyBody = z.strictObject({
  enabled: z.boolean().optional(),
  max_keys_per_user: z.number().int('must be a whole number').min(1, 'must be at least 1 (to allow no keys, set enabled: false)').max(10_000).nullable().optional(),
  max_budget_usd: z.number().positive('must be positive').max(1e9, 'must be at most 1e9').nullable().optional(),
  require_expiry: z.boolean().optional(),
  max_expiry_days: z.number().int('must be a whole number').min(1, 'must be at least 1').max(MAX_EXPIRY_DAYS, `must be at most ${MAX_EXPIRY_DAYS}`).nullable().optional(),
});

/** selfServiceView (self-service.repository.ts) */
const policyDoc = z.object({
  team_id: z.number().int(),
  enabled: z.boolean(),
  max_keys_per_user: z.number().int().nullable(),
  max_budget_usd: z.number().nullable(),
  require_expiry: z.boolean(),
  max_expiry_days: z.number().int().nullable(),
  updated_at: z.string().nullable().describe('null: never set (the defaults apply)'),
});

export function registerSelfServiceRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;

  api.get<{ Params: { id: string } }>('/teams/:id/self-service', { config: { action: 'team.self_service.read', doc: { summary: "A team's self-service policy (may members create their own keys, within which caps)", tag: 'Self-service', response: policyDoc } } }, async (req) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'team.self_service.read');
    return selfServiceView(team.id, await readSelfService(db, team.id));
  });

  api.put<{ Params: { id: string } }>('/teams/:id/self-service', { config: { action: 'team.self_service.write', doc: { summary: "Set a team's self-service policy", tag: 'Self-service', body: policyBody, response: policyDoc } } }, async (req) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'team.self_service.write');
    const input = parse(policyBody, req.body);
    const next: SelfServicePolicy = {
      enabled: input.enabled ?? false,
      maxKeysPerUser: input.max_keys_per_user ?? null,
      maxBudgetMicro: input.max_budget_usd == null ? null : toMicro(input.max_budget_usd),
      requireExpiry: input.require_expiry ?? false,
      maxExpiryDays: input.max_expiry_days ?? null,
    };
    return applyChange(deps, req.actor, async (trx, at) => {
      // Locked like a creation locks it: a policy change waits for creations in flight.
      const before = await readSelfService(trx, team.id, deps.db.dialect);
      // The same policy again (a retried or converging PUT): nothing to record.
      const { updated_at: _, ...was } = selfServiceView(team.id, before);
      const { updated_at: __, ...will } = selfServiceView(team.id, { policy: next, updatedAt: at });
      if (JSON.stringify(was) === JSON.stringify(will)) return { result: selfServiceView(team.id, before), audit: [] };
      await saveSelfService(trx, team.id, next, at);
      const after = selfServiceView(team.id, { policy: next, updatedAt: at });
      return {
        result: after,
        audit: [{ orgId: team.org_id, teamId: team.id, action: 'team.self_service.set', targetType: 'team', targetId: team.id, before: selfServiceView(team.id, before), after }],
      };
    });
  });
}
