// What /api/routes shows of a route: its deployments with the credential serving each, the price
// that applies and where it comes from, and the circuit breaker's state on this replica.
import type { ModelPrice } from '../config.ts';
import type { CredentialRow } from '../vault/credentials.repository.ts';
import { deploymentPrice, type PriceLookup } from '../providers/router.ts';
import type { CircuitState } from '../providers/breaker.ts';
import type { DeploymentRow, RouteRow } from './routes.repository.ts';

const usd = (micro: number) => micro / 1_000_000;

export function priceView(p: ModelPrice) {
  return { input_per_1m_usd: usd(p.input), output_per_1m_usd: usd(p.output), cached_input_per_1m_usd: p.cachedInput !== undefined ? usd(p.cachedInput) : null };
}

export interface ViewContext {
  credentials: Map<number, CredentialRow>;
  book: PriceLookup;
  circuit(deploymentId: number): CircuitState;
}

export function routeView(route: RouteRow, deployments: DeploymentRow[], ctx: ViewContext) {
  const catchAll = route.model === '*';
  return {
    id: route.id,
    model: route.model,
    catch_all: catchAll,
    timeout_ms: route.timeout_ms,
    retries: route.retries,
    deployments: deployments.flatMap((d) => {
      const c = ctx.credentials.get(d.credential_id);
      if (!c || d.model !== route.model) return [];
      const { price, source } = catchAll ? { price: undefined, source: null } : deploymentPrice(d, ctx.book);
      return [{
        id: d.id, credential_id: c.id, credential_name: c.name, provider: c.provider, team_id: c.team_id,
        upstream_model: catchAll ? null : (d.upstream_model ?? d.model), weight: d.weight, priority: d.priority, max_output_tokens: d.max_output_tokens,
        price: price && source ? { ...priceView(price), source } : null,
        circuit: ctx.circuit(d.id),
      }];
    }),
    created_at: route.created_at,
    updated_at: route.updated_at,
  };
}
