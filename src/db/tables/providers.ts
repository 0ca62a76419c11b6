// Row types of the schema created by migrations/ (src/db/types.ts names every table): providers and
// routing — stored credentials, routes and their deployments, model prices, provisioned keys.
import type { Generated } from 'kysely';

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
