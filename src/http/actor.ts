// Who is calling the admin API. Every /api route receives an Actor from the auth plugin and asks
// `can(actor, …)` before touching anything; repositories are always scoped by the actor's org.
export type ActorType = 'admin_key' | 'user' | 'system';

export interface Actor {
  type: ActorType;
  /** admin key id, user id, … as text for the audit log */
  id: string | null;
  orgId: number;
  /** org-level role; team roles are checked against memberships */
  role: 'admin' | 'member';
  userId: number | null;
  /** the master admin key: may manage organizations */
  superadmin: boolean;
  ip: string | null;
}

/** How an actor is recorded on what it creates: 'user:5', 'admin_key:3', 'admin_key:master', 'system:rotation'. */
export function actorRef(actor: Pick<Actor, 'type' | 'id' | 'userId'>): string {
  if (actor.type === 'user') return `user:${actor.userId ?? actor.id}`;
  return `${actor.type}:${actor.id ?? 'unknown'}`;
}
