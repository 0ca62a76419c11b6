// What the access routes answer about levels and groups, as the OpenAPI document promises it (the
// dashboard's client is typed from these; under test every answer is checked against them).
import { z } from 'zod';

/** levelView (access-explain.ts): one level's rule, its groups by name */
const levelDoc = z.object({
  level: z.string(),
  inherits: z.boolean().describe('no allowlist of its own: the level above decides (blocklists still apply)'),
  models: z.array(z.string()).nullable(),
  access_groups: z.array(z.object({ id: z.number().int(), name: z.string().nullable(), models: z.array(z.string()) })).nullable(),
  blocked_models: z.array(z.string()),
  ip_allowlist: z.array(z.string()),
});

/** explainAccess (access-explain.ts): every level, and each model allowed or who removed it */
export const accessExplainDoc = z.object({
  levels: z.array(levelDoc),
  catch_all: z.boolean(),
  models: z.array(z.object({ id: z.string(), routed: z.boolean(), allowed: z.boolean(), removed_by: z.object({ level: z.string(), reason: z.string() }).optional() })),
});

/** groupView (access-groups.repository.ts) */
export const accessGroupDoc = z.object({ id: z.number().int(), name: z.string(), description: z.string().nullable(), models: z.array(z.string()), created_at: z.string(), updated_at: z.string() });
export const accessGroupListDoc = z.object({ data: z.array(accessGroupDoc), limit: z.number().int(), offset: z.number().int() });
export const accessGroupDetailDoc = accessGroupDoc.extend({
  used_by: z.object({ org: z.boolean(), teams: z.number().int(), team_ids: z.array(z.number().int()), keys: z.number().int(), key_ids: z.array(z.number().int()) }),
});
export const accessGroupDeletedDoc = z.object({
  id: z.number().int(),
  deleted: z.boolean(),
  removed_from: z.object({ org: z.boolean(), team_ids: z.array(z.number().int()), key_ids: z.array(z.number().int()) }),
});
