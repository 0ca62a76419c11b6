// Row types of the schema created by migrations/. Kysely's Generated marks columns with defaults.
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

export interface AuditHeadsTable {
  org_id: number;
  last_id: number;
  last_hash: string;
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

export interface ApiKeysTable {
  id: Generated<number>;
  org_id: number;
  team_id: number | null;
  user_id: number | null;
  service_account_id: number | null;
  name: string;
  description: string | null;
  tags: Generated<string>;
  key_prefix: string;
  key_hash: string;
  scopes: Generated<string>;
  status: Generated<string>;
  expires_at: string | null;
  ip_allowlist: Generated<string>;
  model_access: Generated<string>;
  created_by: Generated<number>;
  created_by_actor: string | null;
  rotated_from_id: number | null;
  lineage_id: number | null;
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface AccessGroupsTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  description: string | null;
  models: Generated<string>;
  created_at: string;
  updated_at: string;
}

export interface AccessRulesTable {
  org_id: number;
  /** 'org' or 'team:<id>' */
  scope: string;
  models: string | null;
  access_groups: string | null;
  blocked_models: Generated<string>;
  ip_allowlist: Generated<string>;
  updated_at: string;
}

export interface PoliciesTable {
  scope_type: string;
  scope_id: string;
  org_id: number;
  rpm: number | null;
  rph: number | null;
  rpd: number | null;
  tpm: number | null;
  tpd: number | null;
  max_parallel: number | null;
  budget_micro: number | null;
  budget_period: string | null;
  budget_mode: string | null;
  alert_thresholds: string | null;
  /** teams only: each member's share of the team's tpm/tpd, 'fair' or a fraction ('0.25'); null = none */
  member_share: string | null;
  updated_at: string;
}

export interface ProviderCredentialsTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  provider: string;
  base_url: string;
  secret_enc: string;
  secret_hint: string;
  status: Generated<string>;
  created_at: string;
  updated_at: string;
  /** a team-scoped credential serves only that team's keys; null: the whole organization */
  team_id: number | null;
  /** JSON object of provider settings (e.g. Azure's api_version), null when none */
  options: string | null;
}

/** A public model name of an organization (issue 13); its deployments are model_routes rows. */
export interface RoutesTable {
  id: Generated<number>;
  org_id: number;
  model: string;
  /** the whole upstream response, at most (null: TOLLGATE_UPSTREAM_TIMEOUT_MS) */
  timeout_ms: number | null;
  /** tries again on the same deployment before falling back (null: the default) */
  retries: number | null;
  created_at: string;
  updated_at: string;
}

export interface ModelPricesTable {
  id: Generated<number>;
  org_id: number;
  model: string;
  input_micro: number;
  output_micro: number;
  cached_input_micro: number | null;
  max_output_tokens: number | null;
  note: string | null;
  created_at: string;
  updated_at: string;
}

export interface ProvisionedKeysTable {
  id: Generated<number>;
  org_id: number;
  team_id: number;
  user_id: number;
  credential_id: number;
  provider: string;
  /** the provider's id for the key (OpenRouter: its hash); never the secret */
  upstream_id: string;
  name: string;
  secret_hint: string;
  limit_micro: number;
  expires_at: string | null;
  /** active | disabled | deleted */
  status: Generated<string>;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface ModelRoutesTable {
  id: Generated<number>;
  org_id: number;
  model: string;
  credential_id: number;
  upstream_model: string | null;
  priority: Generated<number>;
  input_price_micro: number | null;
  output_price_micro: number | null;
  max_output_tokens: number | null;
  created_at: string;
  /** share among the route's deployments of the same priority */
  weight: Generated<number>;
  cached_input_price_micro: number | null;
}

export interface RequestLogsTable {
  id: Generated<number>;
  request_id: string;
  created_at: string;
  org_id: number;
  team_id: number | null;
  user_id: number | null;
  key_id: number;
  endpoint: string;
  model: string;
  provider: string | null;
  status_code: number;
  error_code: string | null;
  streamed: number;
  tokens_in: number;
  tokens_out: number;
  cost_micro: number | null;
  unpriced: number;
  usage_estimated: number;
  latency_ms: number;
  client_ip: string | null;
  /** migration 0014 */
  cached_tokens: Generated<number>;
  reasoning_tokens: Generated<number>;
  upstream_ms: number | null;
  ttfb_ms: number | null;
  /** migration 0022: tries it took (fallbacks and retries), and the failed ones as JSON */
  attempts: Generated<number>;
  attempt_log: Generated<string | null>;
}

export interface SpendRollupsTable {
  day: string;
  key_id: number;
  model: string;
  org_id: number;
  team_id: number | null;
  user_id: number | null;
  requests: number;
  tokens_in: number;
  tokens_out: number;
  cost_micro: number;
  unpriced_requests: number;
}

export interface OrgDayRollupsTable {
  org_id: number;
  day: string;
  requests: number;
  tokens_in: number;
  tokens_out: number;
  cost_micro: number;
  unpriced_requests: number;
}

/** migration 0015: the request log counted per level (src/usage/usage-rollups.ts) */
export interface UsageRollupsTable {
  level: string;
  bucket: string;
  org_id: number;
  team_id: number;
  user_id: number;
  key_id: number;
  model: string;
  provider: string;
  requests: number;
  errors: number;
  tokens_in: number;
  tokens_out: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_micro: number;
  unpriced_requests: number;
}

export interface AuditEventsTable {
  id: Generated<number>;
  created_at: string;
  org_id: number;
  team_id: number | null;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  before: string | null;
  after: string | null;
  amount_micro: number | null;
  source_ip: string | null;
  user_agent: string | null;
  /** the chain (audit/audit-chain.ts): hash of the org's previous event, and this event's */
  prev_hash: string | null;
  hash: string | null;
}

/** per local log journal: the last row sequence committed (usage/journal.ts, migration 0004) */
export interface JournalMarksTable { journal_id: string; seq: number }

/** forwarded requests and tokens per scope and UTC minute (epoch minutes): rate windows are rebuilt from it */
export interface UsageMinutesTable { scope: string; minute: number; requests: number; tokens: number }

export interface BudgetAlertsTable { scope: string; period: string; threshold: string; created_at: string }

export interface Database {
  settings: SettingsTable;
  organizations: OrganizationsTable;
  admin_keys: AdminKeysTable;
  users: UsersTable;
  teams: TeamsTable;
  memberships: MembershipsTable;
  service_accounts: ServiceAccountsTable;
  api_keys: ApiKeysTable;
  policies: PoliciesTable;
  provider_credentials: ProviderCredentialsTable;
  model_routes: ModelRoutesTable;
  routes: RoutesTable;
  model_prices: ModelPricesTable;
  provisioned_keys: ProvisionedKeysTable;
  request_logs: RequestLogsTable;
  spend_rollups: SpendRollupsTable;
  org_day_rollups: OrgDayRollupsTable;
  usage_rollups: UsageRollupsTable;
  audit_events: AuditEventsTable;
  budget_alerts: BudgetAlertsTable;
  journal_marks: JournalMarksTable;
  usage_minutes: UsageMinutesTable;
  access_groups: AccessGroupsTable;
  access_rules: AccessRulesTable;
  sessions: SessionsTable;
  invitations: InvitationsTable;
  oidc_logins: OidcLoginsTable;
  team_self_service: TeamSelfServiceTable;
  audit_heads: AuditHeadsTable;
}
