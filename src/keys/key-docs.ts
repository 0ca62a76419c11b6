// What the key routes answer, as the OpenAPI document promises it (the dashboard's client is typed
// from these; under test every answer is checked against them). keyView, the listing's pageView,
// rotateByAdmin, secretViews and scheduleView build these shapes.
import { z } from 'zod';
import { policyDoc } from '../policy/limits-doc.ts';

const status = z.enum(['active', 'disabled', 'revoked']);

/** keyView (keys.repository.ts): a key as every route shows it, never its secret */
export const keyDoc = z.object({
  id: z.number().int(),
  user_id: z.number().int().nullable(),
  team_id: z.number().int().nullable(),
  service_account_id: z.number().int().nullable(),
  key_prefix: z.string().describe('enough of the secret to recognize it, never enough to use it'),
  name: z.string(),
  description: z.string().nullable(),
  tags: z.array(z.string()),
  scopes: z.string(),
  status,
  expires_at: z.string().nullable(),
  models: z.array(z.string()).nullable().describe("null: inherits the team's models"),
  access_groups: z.array(z.number().int()).nullable(),
  blocked_models: z.array(z.string()),
  ip_allowlist: z.array(z.string()),
  created_by: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  revoked_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
});

/** POST /api/keys, /api/teams/{id}/keys, /api/me/keys */
export const createdKeyDoc = keyDoc.extend({
  key: z.string().describe('the secret: in this answer only (left out of an idempotent replay)').optional(),
  /** the limits given inline at creation, as the limits routes show them */
  limits: policyDoc,
});

/** one row of a listing: the key, its lineage's spend this month and its budget (null: none) */
export const listedKeyDoc = keyDoc.extend({
  owner_name: z.string().nullable().describe("the owner as a person reads it: a user's name, else email, else external id; a service account's name; null: no owner"),
  spend_this_month_usd: z.number(),
  max_budget_usd: z.number().nullable(),
  budget_period: z.enum(['total', 'daily', 'weekly', 'monthly']).nullable(),
});

/** GET /api/keys, /api/teams/{id}/keys, /api/me/keys */
export const keyPageDoc = z.object({
  data: z.array(listedKeyDoc),
  limit: z.number().int(),
  offset: z.number().int(),
  sort: z.string(),
  spend_month: z.string().describe("the month of spend_this_month_usd, 'YYYY-MM' (UTC)"),
  next_cursor: z.string().nullable(),
  next_after: z.number().int().nullable(),
});

/** POST …/rotate (RotateResult, key-rotation.ts) */
export const rotatedKeyDoc = keyDoc.extend({
  key: z.string().describe('the new secret: in the first answer only, never in a replay').optional(),
  rotated_at: z.string(),
  previous_secret: z.object({ id: z.number().int(), key_prefix: z.string(), valid_until: z.string() }),
});

/** SecretView (key-rotation.ts) */
export const secretDoc = z.object({
  id: z.number().int().nullable().describe("null: the key's current secret"),
  key_prefix: z.string(),
  status: z.enum(['current', 'grace', 'ended']),
  created_at: z.string(),
  replaced_at: z.string().nullable(),
  valid_until: z.string().nullable(),
  ended_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
});

/** ScheduleView (rotation-schedule.ts) */
export const scheduleDoc = z.object({
  key_id: z.number().int(),
  rotate_every_days: z.number().int().nullable(),
  grace_period_seconds: z.number().int().nullable(),
  next_rotation_at: z.string().nullable(),
  last_rotated_at: z.string().nullable(),
});

/** GET /api/keys/{id}/secrets */
export const secretsDoc = z.object({ data: z.array(secretDoc), rotation_schedule: scheduleDoc });
