// The organization's access rule (GET/PUT/PATCH /api/orgs/current/access), the top of the asset
// boundary, and the explanations of the effective boundary of a key (GET /api/keys/{id}/access) and
// of a team (GET /api/teams/{id}/access). docs/access.md describes the precedence.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import { idParam, parse } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import { authorizedTeam } from '../teams/team-access.ts';
import { applyChange } from '../audit/change.ts';
import { OPEN_RULE, ruleFromStored, ruleView } from '../policy/access-rules.ts';
import { ModelAccess } from '../policy/model-access.ts';
import { MAX_MODEL_NAME } from '../policy/model-set.ts';
import { keyOf, type KeyReq } from '../keys/key-lookup.ts';
import { getTeam } from '../teams/teams.repository.ts';
import { loadOrgAccess } from './org-access.ts';
import { applyRulePatch, ruleBody, rulePatch } from './rule-input.ts';
import { narrowingProblem } from './narrowing.ts';
import { getRule, ORG_SCOPE, saveRule } from './access-rules.repository.ts';
import { explainAccess } from './access-explain.ts';
import { accessExplainDoc } from './access-doc.ts';

/** The organization's rule as GET/PUT/PATCH answer it (ruleView). */
const orgRuleDoc = z.object({ models: z.array(z.string()).nullable(), access_groups: z.array(z.number()).nullable(), blocked_models: z.array(z.string()), ip_allowlist: z.array(z.string()) });
const explainQuery = z.strictObject({ model: z.string().min(1).max(MAX_MODEL_NAME).optional() });

export function registerAccessRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;

  api.get('/orgs/current/access', { config: { action: 'org.access.read', doc: { summary: "The organization's access rule (models, access groups, blocklist, IP allowlist)", tag: 'Access', response: orgRuleDoc } } }, async (req) => {
    authorize(req.actor, 'org.access.read');
    return ruleView(await getRule(db, req.actor.orgId, ORG_SCOPE));
  });

  // PUT replaces the rule (an omitted field: inherit, nothing blocked, any address); PATCH merges.
  const write = (mode: 'replace' | 'merge') => async (req: FastifyRequest) => {
    authorize(req.actor, 'org.access.write');
    const patch = rulePatch(parse(ruleBody, req.body));
    const orgId = req.actor.orgId;
    return applyChange(deps, req.actor, async (trx, at) => {
      const book = await loadOrgAccess(trx, orgId);
      // Nothing is above the org: only its groups must exist in it.
      const problem = narrowingProblem(book, [], patch);
      if (problem) throw new ApiError('invalid_request', `${problem.param}: ${problem.message}`, problem.param);
      const next = applyRulePatch(mode === 'replace' ? OPEN_RULE : book.org, patch);
      // The same rule again (a retried or converging PUT): nothing to record.
      if (JSON.stringify(ruleView(next)) === JSON.stringify(ruleView(book.org))) return { result: ruleView(next), audit: [] };
      await saveRule(trx, orgId, ORG_SCOPE, next, at);
      return {
        result: ruleView(next),
        audit: [{ orgId, action: 'org.access.set', targetType: 'org', targetId: orgId, before: ruleView(book.org), after: ruleView(next) }],
        invalidate: [{ kind: 'access', orgId }],
      };
    });
  };
  api.put('/orgs/current/access', { config: { action: 'org.access.write', doc: { summary: "Replace the organization's access rule", tag: 'Access', body: ruleBody, response: orgRuleDoc } } }, write('replace'));
  api.patch('/orgs/current/access', { config: { action: 'org.access.write', doc: { summary: "Change some fields of the organization's access rule", tag: 'Access', body: ruleBody, response: orgRuleDoc } } }, write('merge'));

  api.get('/keys/:id/access', { config: { action: 'key.read', doc: { summary: 'Explain what a key may call, level by level (optionally for one model)', tag: 'Access', query: explainQuery } } }, async (req: KeyReq) => {
    const key = await keyOf(deps, req, 'key.read');
    const { model } = parse(explainQuery, req.query, 'query');
    const rule = ruleFromStored(key.model_access, key.ip_allowlist);
    // Compiled exactly as a key context is (keys/key-context.ts), from the same cached org access.
    const models = ModelAccess.forKey(await deps.orgAccess.get(key.org_id), key.team_id, rule);
    const access = await explainAccess(deps, { orgId: key.org_id, teamId: key.team_id, rule, models }, model);
    return { key_id: key.id, team_id: key.team_id, status: key.status, scopes: key.scopes, ...access };
  });

  api.get<{ Params: { id: string } }>('/teams/:id/access', { config: { action: 'team.access.read', doc: { summary: 'Explain what a team may call, level by level (optionally for one model)', tag: 'Access', query: explainQuery, response: accessExplainDoc.extend({ team_id: z.number().int() }) } } }, async (req) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'team.access.read');
    const { model } = parse(explainQuery, req.query, 'query');
    // What a key of this team that narrows nothing may call.
    const models = ModelAccess.forKey(await deps.orgAccess.get(team.org_id), team.id, OPEN_RULE);
    return { team_id: team.id, ...(await explainAccess(deps, { orgId: team.org_id, teamId: team.id, rule: null, models }, model)) };
  });
}
