// GET /api/models: what the organization can call and what it costs — each routed model, the
// credential that serves it, and its price per 1M tokens (the route's own price, else the price
// book's). The price book itself (built-in list prices + the `pricing` config) is listed too: it
// prices every model that reaches a catch-all ('*') route. Read-only here; editing the price book
// from the API is a later issue.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import type { ModelPrice } from '../config.ts';
import { authorize } from '../auth/authorize.ts';
import { BUILTIN_PRICES } from '../usage/pricing.ts';
import { listCredentials } from './credentials.repository.ts';

const priceDoc = z.object({
  input_per_1m_usd: z.number(),
  output_per_1m_usd: z.number(),
  cached_input_per_1m_usd: z.number().nullable().describe('null: not known (cached input is charged as input)'),
});
const routeDoc = z.object({
  model: z.string().describe('the name clients ask for; "*" routes every model no other route names'),
  upstream_model: z.string().nullable(),
  credential_id: z.number(), credential_name: z.string(), provider: z.string(), priority: z.number(),
  price: priceDoc.extend({ source: z.enum(['route', 'price_book']) }).nullable().describe('null: unpriced (its requests are logged with no cost), or a catch-all priced per model by the price book'),
});
const modelsDoc = z.object({
  data: z.array(routeDoc),
  price_book: z.array(priceDoc.extend({ model: z.string() })),
  price_book_editable: z.boolean(),
});

// Prices are stored as micro-USD per 1M tokens.
const usd = (micro: number) => micro / 1_000_000;
const priceView = (p: ModelPrice) => ({ input_per_1m_usd: usd(p.input), output_per_1m_usd: usd(p.output), cached_input_per_1m_usd: null });

export function registerModelRoutes(api: FastifyInstance, deps: Deps): void {
  api.get('/models', { config: { action: 'provider.read', doc: { summary: 'Routed models, the credential serving each, and prices per 1M tokens', tag: 'Providers', response: modelsDoc } } }, async (req) => {
    authorize(req.actor, 'provider.read');
    const { credentials, routes } = await listCredentials(deps.db.kysely, req.actor.orgId);
    const byId = new Map(credentials.map((c) => [c.id, c]));
    const data = routes.flatMap((r) => {
      const c = byId.get(r.credential_id);
      if (!c) return [];
      // The same order of precedence as the router (providers/router.ts): the route's price, then the book's.
      const own = r.input_price_micro != null && r.output_price_micro != null ? { input: r.input_price_micro, output: r.output_price_micro } : undefined;
      const listed = r.model === '*' ? undefined : (deps.prices.lookup(r.upstream_model ?? r.model) ?? deps.prices.lookup(r.model));
      const price = own ? { ...priceView(own), source: 'route' as const } : listed ? { ...priceView(listed), source: 'price_book' as const } : null;
      return [{ model: r.model, upstream_model: r.upstream_model, credential_id: c.id, credential_name: c.name, provider: c.provider, priority: r.priority, price }];
    });
    const names = [...new Set([...Object.keys(BUILTIN_PRICES), ...Object.keys(deps.config.pricing)])].sort();
    const priceBook = names.flatMap((model) => {
      const p = deps.prices.lookup(model);
      return p ? [{ model, ...priceView(p) }] : [];
    });
    return { data, price_book: priceBook, price_book_editable: false };
  });
}
