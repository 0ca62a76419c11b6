// Personas for the role-based security suite (test/permissions-security.test.ts): each is a real
// credential (a signed-in user or a management key) plus the Actor the permission table is asked
// about, and its own world of victim objects, so one persona's allowed DELETE cannot spoil
// another's checks. Everything is created with the master key through the API.
import type { Gateway } from './gateway.ts';
import type { Actor, OrgRole, TeamRole } from '../../src/http/actor.ts';
import type { Action, Target } from '../../src/auth/permissions.ts';
import { sessionFor } from './sessions.ts';

export type Reply = { status: number; body: any; headers: Headers };

/** The objects a persona acts on: each route's URL parameters are filled from here. */
export interface VictimWorld {
  /** in every victim object's name: `Victim key p3`, `Victim team p3`, … */
  tag: string;
  orgId: number;
  teamId: number;
  /** a key of the victim team, owned by `keyOwnerId` (a member of the team) */
  keyId: number;
  keyOwnerId: number;
  /** its current secret (an inference key), and the id of its older secret still in grace */
  keySecret: string;
  oldSecretId: number;
  /** the member of /teams/:id/members/:userId and the user of /users/:id: the key's owner */
  memberId: number;
  serviceAccountId: number;
  providerId: number;
  /** the route of the provider's model 'm' (/api/routes/:id) */
  routeId: number;
  accessGroupId: number;
  /** a management key scoped to the victim team (role member), not the persona's own */
  managementKeyId: number;
  /** a pending invitation into the victim team */
  invitationId: number;
  /** a provisioned upstream key of the key's owner in the victim team (its provider unreachable) */
  provisionedKeyId: number;
}

export interface PersonaSpec {
  name: string;
  kind: 'user' | 'management_key';
  /** the org role (a team-scoped management key has 'member', as resolveActor gives it) */
  role: OrgRole;
  /** the persona's role in its victim team, if any */
  victimTeamRole?: TeamRole;
  /** owns the victim key (and so is the victim member and user) */
  ownsVictimKey?: boolean;
  /** owner of a team of its own, not the victim team */
  ownsOtherTeam?: boolean;
}

export interface Persona {
  spec: PersonaSpec;
  /** what decide() is asked about: the same shape resolveActor produces for this credential */
  actor: Actor;
  world: VictimWorld;
  /** the management key's secret, for management-key personas */
  secret?: string;
  userId?: number;
  /** an /api call as this persona (a session persona sends its CSRF token on state changes) */
  call(method: string, path: string, body?: unknown): Promise<Reply>;
}

/** The personas of issue 10's suite: every kind of caller that is not the master key. */
export const PERSONAS: PersonaSpec[] = [
  { name: 'org admin (session)', kind: 'user', role: 'admin' },
  { name: 'viewer (session)', kind: 'user', role: 'viewer' },
  { name: 'owner of the victim team (session)', kind: 'user', role: 'member', victimTeamRole: 'owner' },
  { name: 'member who owns the victim key (session)', kind: 'user', role: 'member', victimTeamRole: 'member', ownsVictimKey: true },
  { name: 'another member of the victim team (session)', kind: 'user', role: 'member', victimTeamRole: 'member' },
  { name: 'owner of another team (session)', kind: 'user', role: 'member', ownsOtherTeam: true },
  { name: 'management key of the victim team, role owner', kind: 'management_key', role: 'member', victimTeamRole: 'owner' },
  { name: 'management key of the victim team, role member', kind: 'management_key', role: 'member', victimTeamRole: 'member' },
  { name: 'org management key, role viewer', kind: 'management_key', role: 'viewer' },
  // Beyond issue 10's list: the plainest caller, and automation with the admin role.
  { name: 'member of no team (session)', kind: 'user', role: 'member' },
  { name: 'org management key, role admin', kind: 'management_key', role: 'admin' },
];

async function ok(gw: Gateway, method: string, path: string, body: unknown, expect = [200, 201]): Promise<any> {
  const res = await gw.api(method, path, body);
  if (!expect.includes(res.status)) throw new Error(`fixture ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A user of the default organization, created with the master key, optionally in a team. */
export async function createUser(gw: Gateway, externalId: string, role: OrgRole, team?: { id: number; role: TeamRole }): Promise<number> {
  const body = { external_id: externalId, email: `${externalId}@example.com`, name: externalId, role, ...(team ? { team_id: team.id, team_role: team.role } : {}) };
  return (await ok(gw, 'POST', '/api/users', body)).id;
}

/** A management key, issued with the master key: org-scoped (teamId null) or for one team. */
export async function createManagementKey(gw: Gateway, name: string, role: string, teamId: number | null): Promise<{ id: number; secret: string }> {
  const created = await ok(gw, 'POST', '/api/management-keys', { name, role, ...(teamId !== null ? { team_id: teamId } : {}) });
  return { id: created.id, secret: created.key };
}

/** Victim objects around a fresh team; `keyOwnerId` defaults to a new member of that team. */
async function victimWorld(gw: Gateway, tag: string, teamId: number, keyOwnerId?: number): Promise<VictimWorld> {
  const owner = keyOwnerId ?? (await createUser(gw, `victim-${tag}`, 'member', { id: teamId, role: 'member' }));
  const key = await ok(gw, 'POST', `/api/teams/${teamId}/keys`, { name: `Victim key ${tag}`, user_id: owner });
  // Rotated with a grace period: the key has an older secret, so /secrets/:secretId names a real one.
  const rotated = await ok(gw, 'POST', `/api/keys/${key.id}/rotate`, { grace_period_seconds: 3600 });
  const sa = await ok(gw, 'POST', `/api/teams/${teamId}/service-accounts`, { name: `Victim robot ${tag}` });
  const provider = await ok(gw, 'POST', '/api/providers', { name: `Victim provider ${tag}`, provider: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-victim-provider', models: ['m'] });
  const route = ((await ok(gw, 'GET', '/api/routes', undefined)).data as Array<{ id: number; model: string }>).find((r) => r.model === 'm')!;
  const group = await ok(gw, 'POST', '/api/access-groups', { name: `Victim group ${tag}`, models: ['gpt-4o'] });
  const mk = await createManagementKey(gw, `Victim automation ${tag}`, 'member', teamId);
  const invitation = await ok(gw, 'POST', '/api/invitations', { email: `victim-invitee-${tag}@example.com`, team_id: teamId });
  // Stored directly (creating one needs a provisioning credential and its provider): revoking it
  // marks it and tries the unreachable provider, which leaves its deletion pending, as designed.
  const at = new Date().toISOString();
  const provisioned = await gw.runtime.deps.db.kysely.insertInto('provisioned_keys').values({
    org_id: gw.runtime.deps.defaultOrgId, team_id: teamId, user_id: owner, credential_id: provider.id, provider: 'openrouter-provisioning',
    upstream_id: `victim-${tag}-${at}`, name: `Victim provisioned ${tag}`, secret_hint: '...abcd', limit_micro: 1_000_000, expires_at: null,
    status: 'active', created_at: at, updated_at: at, deleted_at: null,
  }).returning('id').executeTakeFirstOrThrow();
  return {
    tag, orgId: gw.runtime.deps.defaultOrgId, teamId, keyId: key.id, keyOwnerId: owner, keySecret: rotated.key, oldSecretId: rotated.previous_secret.id,
    memberId: owner, serviceAccountId: sa.id, providerId: provider.id, routeId: route.id, accessGroupId: group.id, managementKeyId: mk.id,
    invitationId: invitation.id, provisionedKeyId: provisioned.id,
  };
}

/** A persona and its world; `n` keeps names unique. */
export async function makePersona(gw: Gateway, spec: PersonaSpec, n: number): Promise<Persona> {
  const tag = `p${n}`;
  const orgId = gw.runtime.deps.defaultOrgId;
  const teamId = (await ok(gw, 'POST', '/api/teams', { name: `Victim team ${tag}` })).id as number;
  const teams = new Map<number, TeamRole>();
  if (spec.victimTeamRole) teams.set(teamId, spec.victimTeamRole);
  let otherTeamId: number | undefined;
  if (spec.ownsOtherTeam) {
    otherTeamId = (await ok(gw, 'POST', '/api/teams', { name: `Own team ${tag}` })).id as number;
    teams.set(otherTeamId, 'owner');
  }
  const base = { orgId, role: spec.role, superadmin: false, ip: null, teams } as const;

  if (spec.kind === 'management_key') {
    const mk = await createManagementKey(gw, `Persona ${tag}`, spec.victimTeamRole ?? spec.role, spec.victimTeamRole ? teamId : null);
    const world = await victimWorld(gw, tag, teamId);
    const actor: Actor = { ...base, type: 'admin_key', id: String(mk.id), userId: null };
    return { spec, actor, world, secret: mk.secret, call: (method, path, body) => gw.api(method, path, body, mk.secret) };
  }

  const userId = await createUser(gw, `persona-${tag}`, spec.role, spec.victimTeamRole ? { id: teamId, role: spec.victimTeamRole } : undefined);
  if (otherTeamId !== undefined) await ok(gw, 'PUT', `/api/teams/${otherTeamId}/members/${userId}`, { role: 'owner' });
  const world = await victimWorld(gw, tag, teamId, spec.ownsVictimKey ? userId : undefined);
  const actor: Actor = { ...base, type: 'user', id: String(userId), userId };
  return { spec, actor, world, userId, call: await sessionCaller(gw, userId) };
}

/**
 * /api calls as a signed-in user, with a fresh session for every state change: a route that ends
 * the caller's session (sign-out, a password change) cannot lock them out of the checks that follow.
 */
export async function sessionCaller(gw: Gateway, userId: number): Promise<Persona['call']> {
  const reading = await sessionFor(gw, userId);
  return async (method, path, body) => {
    const session = method === 'GET' ? reading : await sessionFor(gw, userId);
    return session.api(method, path, body);
  };
}

/**
 * A route's URL with its parameters taken from `world`. An unknown parameter fails loudly: a new
 * route with a new parameter needs a real object here (and in targetOf), never a made-up id.
 */
export function fillUrl(url: string, world: VictimWorld): string {
  return url
    .replace(/\/teams\/:id/, `/teams/${world.teamId}`)
    .replace(/\/keys\/:keyId/, `/keys/${world.keyId}`)
    .replace(/\/keys\/:id/, `/keys/${world.keyId}`)
    .replace(/\/members\/:userId/, `/members/${world.memberId}`)
    .replace(/\/users\/:id/, `/users/${world.memberId}`)
    .replace(/\/service-accounts\/:(id|saId)/, `/service-accounts/${world.serviceAccountId}`)
    .replace(/\/providers\/:id/, `/providers/${world.providerId}`)
    .replace(/\/routes\/:id/, `/routes/${world.routeId}`)
    .replace(/\/access-groups\/:id/, `/access-groups/${world.accessGroupId}`)
    .replace(/\/orgs\/:id/, `/orgs/${world.orgId}`)
    .replace(/\/management-keys\/:id/, `/management-keys/${world.managementKeyId}`)
    .replace(/\/invitations\/:id/, `/invitations/${world.invitationId}`)
    .replace(/\/provisioned-keys\/:id/, `/provisioned-keys/${world.provisionedKeyId}`)
    .replace(/\/secrets\/:secretId/, `/secrets/${world.oldSecretId}`)
    // A model name, not an object: the organization's own price for it (org-wide, no target).
    .replace(/\/prices\/:model/, '/prices/gpt-4o')
    // No request was made with the victim key: every caller the table allows gets a 404.
    .replace(/\/logs\/:requestId/, '/logs/00000000-0000-4000-8000-000000000000')
    .replace(/:[A-Za-z]+/, (param) => {
      throw new Error(`${url}: the security suite does not know the parameter ${param}; add it to fillUrl and targetOf (test/support/personas.ts)`);
    });
}

/**
 * What a route acts on, read from its URL, for decide(): the victim team, key, member, user or
 * service account; undefined for routes whose target is not in the URL (listings, creates whose
 * team is in the body: the coarse decision the route takes before reading the body).
 */
export function targetOf(url: string, world: VictimWorld): Target | undefined {
  const key = { teamId: world.teamId, userId: world.keyOwnerId };
  if (/^\/api\/teams\/:id\/keys\/:keyId/.test(url)) return key;
  if (/^\/api\/teams\/:id\/members\/:userId/.test(url)) return { teamId: world.teamId, userId: world.memberId };
  if (/^\/api\/teams\/:id/.test(url)) return { teamId: world.teamId };
  if (/^\/api\/(me\/)?keys\/:id/.test(url)) return key;
  if (/^\/api\/(me\/)?provisioned-keys\/:id/.test(url)) return key;
  if (/^\/api\/users\/:id/.test(url)) return { userId: world.memberId };
  if (/^\/api\/service-accounts\/:id/.test(url)) return { teamId: world.teamId };
  if (/^\/api\/(management-keys|invitations)\/:id/.test(url)) return { teamId: world.teamId };
  return undefined;
}

/** A victim object as its name shows in an answer, and the action (and target) reading it takes. */
export interface Visible {
  what: string;
  pattern: RegExp;
  action: Action;
  target?: Target;
}

/**
 * The world's objects that have a name of their own, for the leak check: an answer may show one
 * only to a caller the table lets read it. (Users are not here: a team's member listing shows its
 * members to every member of the team, by design.)
 */
export function visibleObjects(world: VictimWorld): Visible[] {
  const named = (name: string) => new RegExp(`${name}(?![0-9])`);
  const team = { teamId: world.teamId };
  return [
    { what: `team ${world.tag}`, pattern: named(`Victim team ${world.tag}`), action: 'team.read', target: team },
    { what: `key ${world.tag}`, pattern: named(`Victim key ${world.tag}`), action: 'key.read', target: { teamId: world.teamId, userId: world.keyOwnerId } },
    { what: `service account ${world.tag}`, pattern: named(`Victim robot ${world.tag}`), action: 'service_account.read', target: team },
    { what: `provider ${world.tag}`, pattern: named(`Victim provider ${world.tag}`), action: 'provider.read' },
    { what: `access group ${world.tag}`, pattern: named(`Victim group ${world.tag}`), action: 'access_group.read' },
    { what: `management key ${world.tag}`, pattern: named(`Victim automation ${world.tag}`), action: 'management_key.list', target: team },
    { what: `invitation ${world.tag}`, pattern: named(`victim-invitee-${world.tag}`), action: 'invitation.list', target: team },
  ];
}
