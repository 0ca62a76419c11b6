// "What may this key call, and who decided?" — each level's rule (org, team, key) with its groups
// by name, the key's scopes, and every model the org routes (plus every name the rules mention)
// marked allowed or `removed_by: {level, reason}`. Served to admins (GET /api/keys/{id}/access,
// GET /api/teams/{id}/access) and to the key itself (GET /v1/key). Reads the same compiled
// ModelAccess the hot path uses, so the explanation cannot disagree with the enforcement.
import type { Deps } from '../deps.ts';
import { isRestricted, OPEN_RULE, type AccessRule, type OrgAccess } from '../policy/access-rules.ts';
import type { AccessLevel, ModelAccess } from '../policy/model-access.ts';
import { isPattern } from '../policy/model-set.ts';
import { ALL_SCOPES, scopeBit, SCOPES } from '../policy/scopes.ts';

export interface AccessSubject {
  orgId: number;
  teamId: number | null;
  /** the key's own rule; null when explaining a team (no key level) */
  rule: AccessRule | null;
  /** the compiled effective set (a KeyContext's, or ModelAccess.forKey) */
  models: ModelAccess;
}

/** The stored scope string of a bit mask ("*" for all). */
export function scopeNames(mask: number): string {
  if ((mask & ALL_SCOPES) === ALL_SCOPES) return '*';
  return SCOPES.filter((s) => (mask & scopeBit(s)) !== 0).join(' ');
}

function levelView(level: AccessLevel, rule: AccessRule, book: OrgAccess) {
  return {
    level,
    /** no allowlist of its own: the level above decides (blocklists still apply) */
    inherits: !isRestricted(rule),
    models: rule.models,
    access_groups:
      rule.accessGroups?.map((id) => {
        const g = book.groups.get(id);
        return { id, name: g?.name ?? null, models: g?.models ?? [] };
      }) ?? null,
    blocked_models: rule.blockedModels,
    ip_allowlist: rule.ipAllowlist,
  };
}

/** Exact names a level's rule mentions (its own and its groups'): worth explaining even if not routed. */
function mentioned(rules: AccessRule[], book: OrgAccess): string[] {
  const out: string[] = [];
  for (const r of rules) {
    out.push(...(r.models ?? []), ...r.blockedModels);
    for (const id of r.accessGroups ?? []) out.push(...(book.groups.get(id)?.models ?? []));
  }
  return out.filter((m) => !isPattern(m));
}

export async function explainAccess(deps: Deps, subject: AccessSubject, only?: string) {
  const book = await deps.orgAccess.get(subject.orgId);
  const levels: Array<[AccessLevel, AccessRule]> = [['org', book.org]];
  if (subject.teamId !== null) levels.push(['team', book.teams.get(subject.teamId) ?? OPEN_RULE]);
  if (subject.rule !== null) levels.push(['key', subject.rule]);
  const { names, catchAll } = await deps.router.models(subject.orgId);
  const routed = new Set(names);
  const candidates = only !== undefined ? [only] : [...new Set([...names, ...mentioned(levels.map(([, r]) => r), book)])].sort();
  return {
    levels: levels.map(([level, rule]) => levelView(level, rule, book)),
    /** a catch-all provider serves any model name no route names */
    catch_all: catchAll !== undefined,
    models: candidates.map((id) => {
      const refusal = subject.models.refusal(id);
      return { id, routed: routed.has(id) || catchAll !== undefined, allowed: refusal === null, ...(refusal ? { removed_by: refusal } : {}) };
    }),
  };
}
