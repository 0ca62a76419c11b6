// Row types of the schema created by migrations/ (src/db/types.ts names every table): API keys and
// what they may do — access groups and rules, limits and budgets (policies).
import type { Generated } from 'kysely';

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
