// Who is calling the admin API. Every /api route receives an Actor from the auth hook
// (http/admin-auth.ts) and asks `authorize(actor, action, target)` (auth/authorize.ts) before
// touching anything; repositories are always scoped by the actor's org.
export type ActorType = 'admin_key' | 'user' | 'system';
export type OrgRole = 'admin' | 'member' | 'viewer';
export type TeamRole = 'owner' | 'member';

export interface Actor {
  /** 'admin_key': the master key or a management key (admin_keys row); 'user': a signed-in person */
  type: ActorType;
  /** admin key id ('master' for the master key), user id, … as text for the audit log */
  id: string | null;
  orgId: number;
  /** org-level role */
  role: OrgRole;
  userId: number | null;
  /** the master admin key: may manage organizations */
  superadmin: boolean;
  ip: string | null;
  userAgent?: string | null;
  /**
   * Team roles: a user's memberships, or a team-scoped management key's one team. A team-scoped
   * management key has org role 'member' and nothing outside its team.
   */
  teams?: ReadonlyMap<number, TeamRole>;
  /** the user's teams where an owner took their self-service right away (memberships.key_create_self = 0) */
  noSelfService?: ReadonlySet<number>;
  /** set for a session: state-changing requests must carry its CSRF token */
  sessionId?: number | null;
  /** the actions authorize() granted during this request (the route guard checks its own is there) */
  granted?: Set<string>;
}

/** How an actor is recorded on what it creates: 'user:5', 'admin_key:3', 'admin_key:master', 'system:rotation'. */
export function actorRef(actor: Pick<Actor, 'type' | 'id' | 'userId'>): string {
  if (actor.type === 'user') return `user:${actor.userId ?? actor.id}`;
  return `${actor.type}:${actor.id ?? 'unknown'}`;
}
