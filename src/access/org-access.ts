// Each organization's access rules and groups, loaded in one go (three small queries) and kept
// until an admin change drops them: a key context compiles its model set from this on a cache miss.
// 'access' and 'org' events drop one organization's; a 'team' event (which names no org) drops all.
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Invalidation } from '../cache/invalidator.ts';
import { OPEN_RULE, type AccessGroup, type AccessRule, type OrgAccess } from '../policy/access-rules.ts';

export interface RuleRow {
  models: string | null;
  access_groups: string | null;
  blocked_models: string;
  ip_allowlist: string;
}

export function ruleFromRow(r: RuleRow): AccessRule {
  return {
    models: r.models === null ? null : (JSON.parse(r.models) as string[]),
    accessGroups: r.access_groups === null ? null : (JSON.parse(r.access_groups) as number[]),
    blockedModels: JSON.parse(r.blocked_models) as string[],
    ipAllowlist: JSON.parse(r.ip_allowlist) as string[],
  };
}

export async function loadOrgAccess(db: Kysely<Database>, orgId: number): Promise<OrgAccess> {
  const [rules, groups] = await Promise.all([
    db.selectFrom('access_rules').selectAll().where('org_id', '=', orgId).execute(),
    db.selectFrom('access_groups').select(['id', 'name', 'models']).where('org_id', '=', orgId).execute(),
  ]);
  const out: OrgAccess = { org: OPEN_RULE, teams: new Map(), groups: new Map<number, AccessGroup>() };
  for (const r of rules) {
    if (r.scope === 'org') out.org = ruleFromRow(r);
    else if (r.scope.startsWith('team:')) out.teams.set(Number(r.scope.slice(5)), ruleFromRow(r));
  }
  for (const g of groups) out.groups.set(g.id, { id: g.id, name: g.name, models: JSON.parse(g.models) as string[] });
  return out;
}

export class OrgAccessCache {
  private readonly db: Kysely<Database>;
  private readonly entries = new Map<number, Promise<OrgAccess>>();

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  get(orgId: number): Promise<OrgAccess> {
    let entry = this.entries.get(orgId);
    if (!entry) {
      const loading = loadOrgAccess(this.db, orgId);
      entry = loading;
      this.entries.set(orgId, loading);
      // A failed load is not kept; an invalidation during the load has already removed it.
      loading.catch(() => {
        if (this.entries.get(orgId) === loading) this.entries.delete(orgId);
      });
    }
    return entry;
  }

  invalidate(event: Invalidation): void {
    if (event.kind === 'all' || event.kind === 'team') this.entries.clear();
    else if (event.kind === 'access' || event.kind === 'org') this.entries.delete(event.orgId);
  }
}
