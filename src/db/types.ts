// Row types of the schema created by migrations/, one file per area under tables/ (Kysely's
// Generated marks columns with defaults); the Database interface below names every table.
import type { SettingsTable, OrganizationsTable, AdminKeysTable, UsersTable, SessionsTable, InvitationsTable, OidcLoginsTable, TeamSelfServiceTable, TeamsTable, MembershipsTable, ServiceAccountsTable } from './tables/people.ts';
import type { ApiKeysTable, AccessGroupsTable, AccessRulesTable, PoliciesTable } from './tables/keys.ts';
import type { ProviderCredentialsTable, RoutesTable, ModelPricesTable, ProvisionedKeysTable, ModelRoutesTable } from './tables/providers.ts';
import type { RequestLogsTable, SpendRollupsTable, OrgDayRollupsTable, UsageRollupsTable, JournalMarksTable, UsageMinutesTable, BudgetAlertsTable } from './tables/usage.ts';
import type { AuditEventsTable, AuditHeadsTable } from './tables/audit.ts';

export type { SettingsTable, OrganizationsTable, AdminKeysTable, UsersTable, SessionsTable, InvitationsTable, OidcLoginsTable, TeamSelfServiceTable, TeamsTable, MembershipsTable, ServiceAccountsTable } from './tables/people.ts';
export type { ApiKeysTable, AccessGroupsTable, AccessRulesTable, PoliciesTable } from './tables/keys.ts';
export type { ProviderCredentialsTable, RoutesTable, ModelPricesTable, ProvisionedKeysTable, ModelRoutesTable } from './tables/providers.ts';
export type { RequestLogsTable, SpendRollupsTable, OrgDayRollupsTable, UsageRollupsTable, JournalMarksTable, UsageMinutesTable, BudgetAlertsTable } from './tables/usage.ts';
export type { AuditEventsTable, AuditHeadsTable } from './tables/audit.ts';

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
