// GET /api/models: what the organization can call and what it costs — each deployment of each
// route (the catch-all '*' included), the credential that serves it, and its price per 1M tokens
// (the deployment's own price, else the organization's price book). The price book itself (the
// organization's prices over config over shipped) is listed too: it prices every model that
// reaches the catch-all. Prices are edited through /api/prices; routes through /api/routes.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import { authorize } from '../auth/authorize.ts';
import { BUILTIN_PRICES } from '../usage/pricing.ts';
import { listOrgPrices } from '../usage/price-book.ts';
import { deploymentPrice } from '../providers/router.ts';
import { listRoutes } from '../routing/routes.repository.ts';
import { priceView } from '../routing/routes.view.ts';
import { listCredentials } from './credentials.repository.ts';

const priceDoc = z.object({
  input_per_1m_usd: z.number(),
  output_per_1m_usd: z.number(),
  cached_input_per_1m_usd: z.number().nullable().describe('null: not known (cached input is charged as input)'),
});
const routeDoc = z.object({
  model: z.string().describe('the name clients ask for; "*" routes every model no other route names'),
  route_id: z.number().describe('its route (GET /api/routes/{id})'),
  upstream_model: z.string().nullable(),
  credential_id: z.number(), credential_name: z.string(), provider: z.string(), priority: z.number(), weight: z.number(),
  team_id: z.number().nullable().describe('a team-scoped credential: only that team\'s keys reach this deployment'),
  price: priceDoc.extend({ source: z.enum(['route', 'price_book']) }).nullable().describe('null: unpriced (its requests are logged with no cost), or a catch-all priced per model by the price book'),
});
const modelsDoc = z.object({
  data: z.array(routeDoc),
  price_book: z.array(priceDoc.extend({ model: z.string() })),
  price_book_editable: z.boolean().describe('true: /api/prices changes the organization\'s prices'),
});

export function registerModelRoutes(api: FastifyInstance, deps: Deps): void {
  api.get('/models', { config: { action: 'provider.read', doc: { summary: 'Routed models, the credential serving each deployment, and prices per 1M tokens', tag: 'Providers', response: modelsDoc } } }, async (req) => {
    authorize(req.actor, 'provider.read');
    const db = deps.db.kysely;
    const orgId = req.actor.orgId;
    const [{ credentials }, { routes, deployments }, own, book] = await Promise.all([listCredentials(db, orgId), listRoutes(db, orgId), listOrgPrices(db, orgId), deps.router.priceBook(orgId)]);
    const byId = new Map(credentials.map((c) => [c.id, c]));
    const routeOf = new Map(routes.map((r) => [r.model, r.id]));
    const data = deployments.flatMap((d) => {
      const c = byId.get(d.credential_id);
      const routeId = routeOf.get(d.model);
      if (!c || routeId === undefined) return [];
      // The same order of precedence as the router (providers/router.ts): the deployment's price, then the book's.
      const { price, source } = d.model === '*' ? { price: undefined, source: null } : deploymentPrice(d, book);
      return [{
        model: d.model, route_id: routeId, upstream_model: d.upstream_model, credential_id: c.id, credential_name: c.name, provider: c.provider,
        priority: d.priority, weight: d.weight, team_id: c.team_id, price: price && source ? { ...priceView(price), source } : null,
      }];
    });
    const names = [...new Set([...Object.keys(BUILTIN_PRICES), ...Object.keys(deps.config.pricing), ...own.map((p) => p.model)])].sort();
    const priceBook = names.flatMap((model) => {
      const p = book.lookup(model);
      return p ? [{ model, ...priceView(p) }] : [];
    });
    return { data, price_book: priceBook, price_book_editable: true };
  });
}
