// Row types of the schema created by migrations/ (src/db/types.ts names every table): organizations,
// sign-in and people — settings, admin keys, users and their sessions, invitations and OIDC logins,
// teams, memberships, service accounts, team self-service.
import type { Generated } from 'kysely';

export interface SettingsTable { key: string; value: string }

export interface OrganizationsTable {
  id: Generated<number>;
  name: string;
  slug: string;
  created_at: string;
  updated_at: string;
}

export interface AdminKeysTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  key_prefix: string;
  key_hash: string;
  /** org roles 'admin' | 'member' | 'viewer'; with team_id: 'owner' | 'member' */
  role: Generated<string>;
  created_at: string;
  revoked_at: string | null;
  /** a team-scoped management key acts for this team only */
  team_id: number | null;
  description: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  created_by_actor: string | null;
}

export interface UsersTable {
  id: Generated<number>;
  org_id: number;
  external_id: string;
  name: string | null;
  email: string | null;
  /** 'admin' | 'member' | 'viewer' */
  role: Generated<string>;
  /** 'active' | 'deactivated' */
  status: Generated<string>;
  created_at: string;
  updated_at: string;
  /** argon2id (PHC string); null: cannot sign in with a password */
  password_hash: string | null;
  failed_logins: Generated<number>;
  locked_until: string | null;
  last_login_at: string | null;
  deactivated_at: string | null;
}

export interface SessionsTable {
  id: Generated<number>;
  token_hash: string;
  csrf_hash: string;
  user_id: number;
  org_id: number;
  /** 'password' | 'oidc' | 'invitation' */
  method: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  revoked_at: string | null;
  ip: string | null;
  user_agent: string | null;
}

export interface InvitationsTable {
  id: Generated<number>;
  org_id: number;
  token_hash: string;
  email: string | null;
  external_id: string | null;
  role: Generated<string>;
  team_id: number | null;
  team_role: string | null;
  created_by_actor: string;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  accepted_user_id: number | null;
  revoked_at: string | null;
  /** the existing (password-less) user this invitation completes; null: it creates a new user (0010) */
  user_id: Generated<number | null>;
}

export interface OidcLoginsTable {
  state_hash: string;
  code_verifier: string;
  nonce: string;
  invitation_id: number | null;
  return_to: string | null;
  created_at: string;
  expires_at: string;
}

export interface TeamSelfServiceTable {
  team_id: number;
  enabled: Generated<number>;
  max_keys_per_user: number | null;
  max_budget_micro: number | null;
  require_expiry: Generated<number>;
  max_expiry_days: number | null;
  updated_at: string;
}

export interface TeamsTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  slug: string;
  description: string | null;
  settings: Generated<string>;
  created_by: Generated<number>;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface MembershipsTable {
  team_id: number;
  user_id: number;
  role: Generated<string>;
  created_at: string;
  updated_at: string;
  /** 0: the member may not create keys through self-service (1: as their team role allows) */
  key_create_self: Generated<number>;
}

export interface ServiceAccountsTable {
  id: Generated<number>;
  org_id: number;
  team_id: number;
  name: string;
  description: string | null;
  created_at: string;
  deleted_at: string | null;
}
