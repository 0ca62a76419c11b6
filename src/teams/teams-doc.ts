// What the team routes answer (teams, members, service accounts), as the OpenAPI document promises
// it: the dashboard's client is typed from these, and under test every answer is checked against them.
import { z } from 'zod';
import { policyDoc } from '../policy/limits-doc.ts';
import { teamSummaryDoc } from './team-summaries.ts';

/** teamView (teams.repository.ts): the essential fields; creation adds the limits and rule it was given */
export const teamDoc = z.looseObject({ id: z.number().int(), name: z.string(), slug: z.string(), description: z.string().nullable(), created_at: z.string(), updated_at: z.string() });

/** ruleView (policy/access-rules.ts): null models / access_groups = inherits the organization's */
const ruleDoc = {
  models: z.array(z.string()).nullable(),
  access_groups: z.array(z.number().int()).nullable(),
  blocked_models: z.array(z.string()),
  ip_allowlist: z.array(z.string()),
};

export const teamListDoc = z.object({
  data: z.array(teamDoc.extend(teamSummaryDoc.shape)),
  limit: z.number().int(),
  offset: z.number().int(),
});

/** the team's keys the caller may read (a member: their own), as keyView shows them */
const teamKeyDoc = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  key_prefix: z.string(),
  status: z.string(),
  user_id: z.number().int().nullable(),
  service_account_id: z.number().int().nullable(),
  expires_at: z.string().nullable(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});

export const teamDetailDoc = teamDoc.extend({
  ...ruleDoc,
  tpm_limit: z.number().nullable(),
  daily_token_limit: z.number().nullable(),
  limits: policyDoc,
  keys: z.array(teamKeyDoc),
});

export const teamUpdatedDoc = teamDoc.extend(ruleDoc);
export const teamDeletedDoc = z.object({ id: z.number().int(), deleted: z.boolean(), revoked_keys: z.number().int() });

export const memberListDoc = z.object({
  data: z.array(
    z.object({
      user_id: z.number().int(),
      external_id: z.string(),
      name: z.string().nullable(),
      email: z.string().nullable(),
      role: z.string(),
      joined_at: z.string(),
      key_create_self: z.boolean(),
      allocation_usd: z.number().nullable().describe("the member's monthly budget in this team (null: none)"),
      committed_usd: z.number().describe('what the caps of their keys in the team add up to'),
      unallocated_usd: z.number().nullable(),
      spent_this_month_usd: z.number(),
    }),
  ),
});
export const memberSetDoc = z.object({ team_id: z.number().int(), user_id: z.number().int(), role: z.string(), key_create_self: z.boolean(), allocation_usd: z.number().nullable() });
export const memberRemovedDoc = z.object({ team_id: z.number().int(), user_id: z.number().int(), removed: z.boolean(), revoked_keys: z.number().int() });

export const serviceAccountDoc = z.object({ id: z.number().int(), team_id: z.number().int(), name: z.string(), description: z.string().nullable(), created_at: z.string() });
export const serviceAccountListDoc = z.object({ data: z.array(serviceAccountDoc) });
export const serviceAccountDeletedDoc = z.object({ id: z.number().int(), deleted: z.boolean(), revoked_keys: z.number().int() });

const spendFigures = z.object({ requests: z.number(), cost_usd: z.number(), tokens_in: z.number(), tokens_out: z.number(), unpriced_requests: z.number() });
/** spendSummary (usage/spend.repository.ts); team_id is a string, as seed 000 shows it */
export const teamSpendDoc = z.object({ team_id: z.string(), today: spendFigures, this_month: spendFigures, total: spendFigures });

/** GET /api/teams/{id}/transactions: allocations set, keys provisioned, capped, rotated and revoked */
export const transactionListDoc = z.object({
  data: z.array(
    z.object({
      id: z.number().int(),
      at: z.string(),
      action: z.string(),
      actor_type: z.string(),
      actor_id: z.string().nullable(),
      target_type: z.string().nullable(),
      target_id: z.string().nullable(),
      amount_usd: z.number().nullable(),
      before: z.unknown(),
      after: z.unknown(),
    }),
  ),
  limit: z.number().int(),
  offset: z.number().int(),
});
