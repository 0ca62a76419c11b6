// Names for a page of audit events (GET /api/audit): who acted (a person's name or email, a
// management key's name, "Master key", a readable label for the system's own jobs) and what was
// acted on (a key, team, user, provider, access group, management key or service account, named by
// its row). Ids are gathered from the whole page and each table is asked once, so a page of 200
// events costs at most one query per table present on it, never one per event. Keys, teams, users,
// providers and management keys are only ever marked deleted, so their rows still name them; an
// access group is removed outright, and is named by what its event recorded (before/after).
import type { Kysely, Selectable } from 'kysely';
import type { AuditEventsTable, Database } from '../db/types.ts';

type Event = Selectable<AuditEventsTable>;
export interface EventNames { actor_name: string | null; target_name: string | null }

/** The system's own actors (Actor.id of type 'system'), as a reader would call them. */
const SYSTEM_ACTORS: Record<string, string> = {
  bootstrap: 'Tollgate start-up',
  cli: 'Command line',
  rotation: 'Scheduled key rotation',
  reminder: 'Key expiry reminder',
  budget: 'Budget alerts',
  provisioning: 'Provisioned key sweeper',
  anonymous: 'Anonymous caller',
};

type Table = 'organizations' | 'users' | 'api_keys' | 'teams' | 'provider_credentials' | 'access_groups' | 'admin_keys' | 'service_accounts';

/** What an event's target refers to: one row (a plain id, or a policy scope like key:5, sa:3), or a member (team and user). */
type TargetRef = { table: Table; id: number } | { member: { teamId: number; userId: number } } | null;

const TARGET_TABLES: Record<string, Table> = {
  key: 'api_keys', team: 'teams', user: 'users', provider: 'provider_credentials',
  access_group: 'access_groups', management_key: 'admin_keys', service_account: 'service_accounts',
};
/** The prefixes of policy scopes (policy/limits.routes.ts): limits and budget-alert events name their target so. */
const SCOPE_PREFIX: Record<string, string> = { key: 'key', team: 'team', sa: 'service_account' };

const asId = (text: string | undefined): number | null => (text !== undefined && /^[1-9]\d{0,14}$/.test(text) ? Number(text) : null);

function targetRef(e: Event): TargetRef {
  if (e.target_id === null) return null;
  const parts = e.target_id.split(':');
  if (parts.length === 1) {
    const table = TARGET_TABLES[e.target_type];
    const id = asId(parts[0]);
    return table && id !== null ? { table, id } : null;
  }
  if (parts[0] === 'member' && parts.length === 3) {
    const [teamId, userId] = [asId(parts[1]), asId(parts[2])];
    return teamId !== null && userId !== null ? { member: { teamId, userId } } : null;
  }
  const type = SCOPE_PREFIX[parts[0]!];
  const id = asId(parts[1]);
  return type && parts.length === 2 && id !== null ? { table: TARGET_TABLES[type]!, id } : null;
}

function actorRef(e: Event): { table: Table; id: number } | null {
  const id = asId(e.actor_id ?? undefined);
  if (id === null) return null;
  return e.actor_type === 'user' ? { table: 'users', id } : e.actor_type === 'admin_key' ? { table: 'admin_keys', id } : null;
}

/** A name recorded in the event itself (a deleted access group's, a removed user's). */
function recordedName(e: Event): string | null {
  for (const text of [e.after, e.before]) {
    if (text === null) continue;
    try {
      const v: unknown = JSON.parse(text);
      if (typeof v === 'object' && v !== null) {
        const o = v as Record<string, unknown>;
        const name = typeof o.name === 'string' && o.name ? o.name : typeof o.email === 'string' && o.email ? o.email : null;
        if (name) return name;
      }
    } catch { /* not JSON: nothing recorded */ }
  }
  return null;
}

/** The names of the rows the page refers to, one query per table (all in the caller's organization). */
async function lookUp(db: Kysely<Database>, orgId: number, wanted: Map<Table, Set<number>>): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const ids = (t: Table) => [...(wanted.get(t) ?? [])];
  const queries: Array<Promise<void>> = [];
  const add = (t: Table, run: (ids: number[]) => Promise<Array<{ id: number; name: string | null }>>) => {
    const list = ids(t);
    if (list.length) queries.push(run(list).then((rows) => { for (const r of rows) if (r.name) names.set(`${t}:${r.id}`, r.name); }));
  };
  add('users', (list) => db.selectFrom('users').where('org_id', '=', orgId).where('id', 'in', list)
    .select((eb) => ['id', eb.fn.coalesce('name', 'email', 'external_id').as('name')]).execute());
  for (const t of ['api_keys', 'teams', 'provider_credentials', 'access_groups', 'admin_keys', 'service_accounts'] as const) {
    add(t, (list) => db.selectFrom(t).where('org_id', '=', orgId).where('id', 'in', list).select(['id', 'name']).execute());
  }
  if (wanted.has('organizations')) {
    queries.push(db.selectFrom('organizations').where('id', '=', orgId).select('name').executeTakeFirst().then((r) => { if (r) names.set(`organizations:${orgId}`, r.name); }));
  }
  await Promise.all(queries);
  return names;
}

/** Each event's actor and target names, by event id. */
export async function eventNames(db: Kysely<Database>, orgId: number, events: Event[]): Promise<Map<number, EventNames>> {
  const wanted = new Map<Table, Set<number>>();
  const want = (table: Table, id: number) => (wanted.get(table) ?? wanted.set(table, new Set()).get(table)!).add(id);
  const refs = events.map((e) => ({ e, actor: actorRef(e), target: targetRef(e) }));
  for (const { e, actor, target } of refs) {
    // The organization's own events (its access rule, its limits): only the caller's organization is named.
    if (e.target_type === 'org') want('organizations', orgId);
    if (actor) want(actor.table, actor.id);
    if (target && 'table' in target) want(target.table, target.id);
    if (target && 'member' in target) {
      want('teams', target.member.teamId);
      want('users', target.member.userId);
    }
  }
  const names = await lookUp(db, orgId, wanted);
  const row = (table: Table, id: number) => names.get(`${table}:${id}`) ?? null;
  const out = new Map<number, EventNames>();
  for (const { e, actor, target } of refs) {
    const actorName = actor ? row(actor.table, actor.id)
      : e.actor_type === 'admin_key' && e.actor_id === 'master' ? 'Master key'
      : e.actor_type === 'system' ? SYSTEM_ACTORS[e.actor_id ?? ''] ?? `System (${e.actor_id ?? 'unknown'})`
      : null;
    let targetName: string | null = null;
    if (target && 'table' in target) targetName = row(target.table, target.id) ?? recordedName(e);
    else if (target && 'member' in target) {
      const [user, team] = [row('users', target.member.userId), row('teams', target.member.teamId)];
      targetName = user && team ? `${user} in ${team}` : user;
    } else if (e.target_type === 'org' && e.target_id !== null && e.target_id.replace(/^org:/, '') === String(orgId)) targetName = row('organizations', orgId);
    out.set(e.id, { actor_name: actorName, target_name: targetName });
  }
  return out;
}
