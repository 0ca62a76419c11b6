// What the user routes answer, as the OpenAPI document promises it (the dashboard's client is typed
// from these; under test every answer is checked against them). userView builds the user.
import { z } from 'zod';

export const userDoc = z.object({
  id: z.number().int(),
  external_id: z.string(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  role: z.string(),
  status: z.string(),
  password_set: z.boolean(),
  last_login_at: z.string().nullable(),
  deactivated_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const userCreatedDoc = userDoc.extend({ team_id: z.number().int().nullable() });
export const userPageDoc = z.object({
  data: z.array(userDoc),
  limit: z.number().int(),
  offset: z.number().int(),
  next_after: z.number().int().nullable().describe('the cursor of the next page (pass it as after); null: this is the last'),
});
export const userDetailDoc = userDoc.extend({
  teams: z.array(z.object({ team_id: z.number().int(), name: z.string(), slug: z.string(), role: z.string(), joined_at: z.string() })),
});
export const userDeactivatedDoc = userDoc.extend({ disabled_key_ids: z.array(z.number().int()).optional(), sessions_ended: z.number().int().optional() });
