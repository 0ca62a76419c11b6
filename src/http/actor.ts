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
