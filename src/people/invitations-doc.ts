// What the invitation routes answer, as the OpenAPI document promises it (the dashboard's client is
// typed from these; under test every answer is checked against them). invitationView builds them.
import { z } from 'zod';

export const invitationDoc = z.object({
  id: z.number().int(),
  email: z.string().nullable(),
  external_id: z.string().nullable(),
  role: z.string(),
  team_id: z.number().int().nullable(),
  team_role: z.string().nullable(),
  user_id: z.number().int().nullable(),
  status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
  created_by: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  accepted_at: z.string().nullable(),
  accepted_user_id: z.number().int().nullable(),
  revoked_at: z.string().nullable(),
});

export const invitationCreatedDoc = invitationDoc.extend({
  // Both are left out of an idempotent replay (http/idempotency.ts: a secret is shown once).
  token: z.string().describe('in this answer only: the invitee opens /ui/invitations/{token} (left out of an idempotent replay)').optional(),
  url: z.string().nullable().describe('the link, when the public URL is configured (left out of an idempotent replay)').optional(),
});
export const invitationListDoc = z.object({ data: z.array(invitationDoc), limit: z.number().int(), offset: z.number().int() });
