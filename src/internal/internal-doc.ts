// Request and response schemas of /internal (seed 001's admin API, issue 15). Request fields are
// picked from the /api create bodies, so each is validated by the same rule with the same message;
// only the ids differ (internal-ids.ts). Responses are seed 001's shapes; under test every answer
// is checked against them (http/admin-pipeline.ts), and the OpenAPI document shows them.
import { z } from 'zod';
import { createBody as teamCreateBody } from '../teams/teams.routes.ts';
import { createBody as userCreateBody } from '../users/users.routes.ts';
import { createBody as keyCreateBody } from '../keys/keys.routes.ts';
import { idField, type IdKind } from './internal-ids.ts';

export const TAG = 'Internal (seed 001)';

const teamIdOut = z.string().regex(/^team_\d+$/);
const userIdOut = z.string().regex(/^user_\d+$/);
const keyIdOut = z.string().regex(/^ak_\d+$/);

// member_share is the lead's team limit field (policy-input.ts, issue 15 part B): passed through
// as POST /api/teams takes it.
export const teamBody = teamCreateBody.pick({ name: true, tpm_limit: true, daily_token_limit: true, member_share: true }).meta({ examples: [{ name: 'engineering', tpm_limit: 200000, daily_token_limit: 5000000 }] });
export const userBody = userCreateBody.pick({ external_id: true }).extend({ team_id: idField('team').optional() }).meta({ examples: [{ external_id: 'alice@example.com' }] });
export const keyBody = keyCreateBody.pick({ name: true }).extend({ user_id: idField('user'), team_id: idField('team').nullish() }).meta({ examples: [{ name: 'laptop-dev', user_id: 'user_1' }] });

/** The one list envelope of /internal: `{ data, next_after }`, paged by `limit` and `after` (the last id seen). */
export function listQuery(kind: IdKind) {
  return z.strictObject({
    limit: z.coerce.number().int().min(1).max(1000).default(50),
    after: idField(kind).optional().describe(`the next_after of the previous page`),
  });
}
const page = <T extends z.ZodType>(item: T, idOut: z.ZodType) => z.object({ data: z.array(item), next_after: idOut.nullable() });

export const teamDoc = z.object({
  id: teamIdOut,
  name: z.string(),
  tpm_limit: z.number().int().nullable(),
  daily_token_limit: z.number().int().nullable(),
  member_share: z.union([z.literal('fair'), z.number()]).nullable(),
  created_at: z.string(),
});
export const teamPageDoc = page(teamDoc, teamIdOut);

export const userDoc = z.object({
  id: userIdOut,
  external_id: z.string(),
  team_id: teamIdOut.nullable().describe('the first of team_ids (by id), or null'),
  team_ids: z.array(teamIdOut),
  created_at: z.string(),
});
export const userPageDoc = page(userDoc, userIdOut);

/** Seed 001's answer to a key creation, exactly: the secret (`key`) is in it and nowhere else. */
export const createdKeyDoc = z.strictObject({
  id: keyIdOut,
  name: z.string(),
  // Optional only for an Idempotency-Key replay, which never repeats a secret (http/idempotency.ts).
  key: z.string().describe('the secret: in this answer only (left out of an idempotent replay)').optional(),
  key_prefix: z.string(),
  user_id: userIdOut,
  created_at: z.string(),
});

/** Metadata only: never the key. */
export const listedKeyDoc = z.strictObject({
  id: keyIdOut,
  name: z.string(),
  key_prefix: z.string(),
  user_id: userIdOut.nullable(),
  team_id: teamIdOut.nullable(),
  status: z.enum(['active', 'disabled', 'revoked']),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
});
export const keyPageDoc = page(listedKeyDoc, keyIdOut);

export const keyDeletedDoc = z.strictObject({ id: keyIdOut, deleted: z.literal(true) });
