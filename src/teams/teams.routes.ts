// /api/teams: create, list, get (with keys), update, delete (revokes its keys), spend, logs.
// A team's access rule (models, access_groups, blocked_models, ip_allowlist; docs/access.md) is
// set on create and update, may only narrow the org's, and lives in access_rules ('team:<id>').
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Transaction } from 'kysely';
import type { Database } from '../db/types.ts';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { idParam, MAX_COUNT, name, optionalText, pagination, parse } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import { decide, teamsFor } from '../auth/permissions.ts';
import { authorizedTeam } from './team-access.ts';
import { applyChange } from '../audit/change.ts';
import { deleteTeam, getTeam, insertTeam, listTeams, teamView, updateTeam, type TeamRow } from './teams.repository.ts';
import { keyView, listKeys } from '../keys/keys.repository.ts';
import { spendSummary } from '../usage/spend.repository.ts';
import { listLogs } from '../usage/logs.repository.ts';
import { pageOf, parseLogQuery, teamLogPage, teamLogsQuery } from '../usage/logs.routes.ts';
import { applyLimits, hasLimitFields, limitFields, policyView } from '../policy/policy-input.ts';
import { getPolicy, savePolicy } from '../policy/policies.repository.ts';
import { EMPTY_POLICY } from '../policy/policy.ts';
import { ApiError } from '../http/errors.ts';
import type { Actor } from '../http/actor.ts';
import { OPEN_RULE, ruleView, type AccessRule } from '../policy/access-rules.ts';
import { loadOrgAccess } from '../access/org-access.ts';
import { aboveTeam, narrowingProblem } from '../access/narrowing.ts';
import { applyRulePatch, hasRuleFields, ruleFields, rulePatch, type RulePatch } from '../access/rule-input.ts';
import { getRule, saveRule, teamScope } from '../access/access-rules.repository.ts';
import { teamDeletedDoc, teamDetailDoc, teamDoc, teamListDoc, teamSpendDoc, teamUpdatedDoc } from './teams-doc.ts';
import { teamSummaries } from './team-summaries.ts';

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be lowercase letters, digits and dashes (at most 64)');
export const createBody = z.strictObject({
  name,
  slug: slug.optional(),
  description: optionalText,
  // seed 001's names for the team's token limits
  tpm_limit: z.number().int().positive().max(MAX_COUNT).nullable().optional(),
  daily_token_limit: z.number().int().positive().max(MAX_COUNT).nullable().optional(),
  ...limitFields,
  ...ruleFields,
});
export type CreateTeamInput = z.infer<typeof createBody>;

const updateBody = z.strictObject({ name: name.optional(), slug: slug.optional(), description: optionalText, ...ruleFields });
const listQuery = pagination.extend({ q: z.string().trim().min(1, 'must not be empty').max(200).optional() });

/** Merges the given fields into the team's rule, refusing what the org does not allow (400 naming the entry). */
async function writeTeamRule(trx: Transaction<Database>, team: TeamRow, patch: RulePatch, at: string): Promise<{ before: AccessRule; after: AccessRule }> {
  const book = await loadOrgAccess(trx, team.org_id);
  const problem = narrowingProblem(book, aboveTeam(book), patch);
  if (problem) throw new ApiError('invalid_request', `${problem.param}: ${problem.message}`, problem.param);
  const before = book.teams.get(team.id) ?? OPEN_RULE;
  const after = applyRulePatch(before, patch);
  await saveRule(trx, team.org_id, teamScope(team.id), after, at);
  return { before, after };
}

/**
 * Creates a team (POST /api/teams, POST /internal/teams) from a validated body: its limits become
 * the team's policy (seed 001's tpm_limit / daily_token_limit are tpm / tpd), its access rule is
 * checked against the org's, and one audit event records it. The caller has authorized team.create.
 * Answers seed 000's shape, plus the limits and the access rule when they were given.
 */
export async function createTeam(deps: Deps, actor: Actor, body: CreateTeamInput) {
  const { tpm_limit, daily_token_limit, ...input } = body;
  const limitsInput = { ...input, tpm: input.tpm ?? tpm_limit, tpd: input.tpd ?? daily_token_limit };
  const policy = hasLimitFields(limitsInput) ? applyLimits(EMPTY_POLICY, limitsInput, 'replace') : EMPTY_POLICY;
  const withRule = hasRuleFields(input);
  const patch = rulePatch(input);
  const { row: team, rule } = await applyChange(deps, actor, async (trx, at) => {
    const row = await insertTeam(trx, actor.orgId, input, actor.userId ?? 0, at);
    if (policy !== EMPTY_POLICY) await savePolicy(trx, `team:${row.id}`, row.org_id, policy, at);
    const rule = withRule ? (await writeTeamRule(trx, row, patch, at)).after : OPEN_RULE;
    const access = withRule ? ruleView(rule) : {};
    return {
      result: { row, rule },
      audit: [{ orgId: row.org_id, teamId: row.id, action: 'team.create', targetType: 'team', targetId: row.id, after: { ...teamView(row), limits: policyView(policy), ...access } }],
      // The org's compiled access holds every team's rule: a new one must be seen.
      invalidate: withRule ? [{ kind: 'team', teamId: row.id }] : [],
    };
  });
  const limits = policy === EMPTY_POLICY ? {} : { tpm_limit: policy.tpm, daily_token_limit: policy.tpd, limits: policyView(policy) };
  return { ...teamView(team), ...limits, ...(withRule ? ruleView(rule) : {}) };
}

export function registerTeamRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;

  api.post('/teams', { config: { action: 'team.create', doc: { summary: 'Create a team', description: 'With optional limits (seed 001: tpm_limit, daily_token_limit) and an access rule narrowing the organization\'s.', tag: 'Teams', body: createBody.meta({ examples: [{ name: 'Search', slug: 'search', tpm_limit: 100000 }] }), response: teamDoc, status: 201 } } }, async (req, reply) => {
    authorize(req.actor, 'team.create');
    return reply.code(201).send(await createTeam(deps, req.actor, parse(createBody, req.body)));
  });

  api.get('/teams', { config: { action: 'team.list', doc: { summary: 'List teams (with members, active keys, spend this month and budget)', description: 'Admins and viewers: every team; anyone else: their teams. q: a part of the name or slug.', tag: 'Teams', query: listQuery, response: teamListDoc } } }, async (req) => {
    authorize(req.actor, 'team.list');
    const { limit, offset, q } = parse(listQuery, req.query, 'query');
    // Admins and viewers see every team; anyone else the teams they belong to.
    const visible = teamsFor(req.actor, 'team.read');
    const rows = await listTeams(db, req.actor.orgId, limit, offset, visible, q);
    await deps.logWriter.flush();
    const figures = await teamSummaries(db, rows.map((t) => t.id), deps.clock.now());
    return { data: rows.map((t) => ({ ...teamView(t), ...figures.get(t.id)! })), limit, offset };
  });

  api.get<{ Params: { id: string } }>('/teams/:id', { config: { action: 'team.read', doc: { summary: 'Read a team, its limits, access rule and keys', tag: 'Teams', response: teamDetailDoc } } }, async (req) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'team.read');
    // A member sees the team, and of its keys only their own.
    const keys = (await listKeys(db, req.actor.orgId, { teamId: team.id }, 1000, 0)).filter((k) => decide(req.actor, 'key.read', { teamId: k.team_id, userId: k.user_id }));
    const policy = await getPolicy(db, `team:${team.id}`);
    const rule = await getRule(db, team.org_id, teamScope(team.id));
    return { ...teamView(team), ...ruleView(rule), tpm_limit: policy.tpm, daily_token_limit: policy.tpd, limits: policyView(policy), keys: keys.map(keyView) };
  });

  const update = async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'team.update');
    const input = parse(updateBody, req.body);
    const withRule = hasRuleFields(input);
    const patch = rulePatch(input);
    return applyChange(deps, req.actor, async (trx, at) => {
      const row = await updateTeam(trx, team, input, at);
      const rule = withRule ? await writeTeamRule(trx, row, patch, at) : undefined;
      const current = rule?.after ?? (await getRule(trx, row.org_id, teamScope(row.id)));
      const access = (r: AccessRule | undefined) => (r ? ruleView(r) : {});
      return {
        result: { ...teamView(row), ...ruleView(current) },
        audit: [{ orgId: row.org_id, teamId: row.id, action: 'team.update', targetType: 'team', targetId: row.id, before: { ...teamView(team), ...access(rule?.before) }, after: { ...teamView(row), ...access(rule?.after) } }],
        invalidate: withRule ? [{ kind: 'team', teamId: row.id }] : [],
      };
    });
  };
  api.put<{ Params: { id: string } }>('/teams/:id', { config: { action: 'team.update', doc: { summary: 'Update a team', description: 'Same as PATCH: the fields given change, the others stay (seed 000 names PUT).', tag: 'Teams', body: updateBody, response: teamUpdatedDoc } } }, (req) => update(req));
  api.patch<{ Params: { id: string } }>('/teams/:id', { config: { action: 'team.update', doc: { summary: 'Update a team', tag: 'Teams', body: updateBody, response: teamUpdatedDoc } } }, (req) => update(req));

  api.delete<{ Params: { id: string } }>('/teams/:id', { config: { action: 'team.delete', doc: { summary: 'Delete a team', description: 'Revokes its keys and its team-scoped management keys.', tag: 'Teams', response: teamDeletedDoc } } }, async (req) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'team.delete');
    const revoked = await applyChange(deps, req.actor, async (trx, at) => {
      const ids = await deleteTeam(trx, team, at);
      return {
        result: ids,
        audit: [{ orgId: team.org_id, teamId: team.id, action: 'team.delete', targetType: 'team', targetId: team.id, before: teamView(team), after: { revoked_key_ids: ids } }],
        invalidate: [{ kind: 'team', teamId: team.id }],
      };
    });
    return { id: team.id, deleted: true, revoked_keys: revoked.length };
  });

  api.get<{ Params: { id: string } }>('/teams/:id/spend', { config: { action: 'team.spend.read', doc: { summary: "A team's spend: today, this month and all time", tag: 'Teams', response: teamSpendDoc } } }, async (req) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'team.spend.read');
    await deps.logWriter.flush();
    const s = await spendSummary(db, { teamId: team.id }, deps.clock.now());
    return { team_id: String(team.id), ...s };
  });

  // The filters and cursor of GET /api/logs (usage/logs.routes.ts); seed 000's limit/offset still work.
  const logsDoc = { summary: "List a team's request logs", tag: 'Teams', query: teamLogsQuery, response: teamLogPage };
  api.get<{ Params: { id: string } }>('/teams/:id/logs', { config: { action: 'team.logs.read', doc: logsDoc } }, async (req) => {
    const team = await authorizedTeam(deps, req.actor, req.params.id, 'team.logs.read');
    const q = parse(teamLogsQuery, req.query, 'query');
    const { filter, position } = parseLogQuery(q, req.actor.orgId);
    await deps.logWriter.flush();
    const rows = await listLogs(db, { ...filter, teamId: team.id }, 'all', position, q.limit + 1);
    return { ...pageOf(rows, q.limit), limit: q.limit, offset: q.offset ?? 0 };
  });
}
