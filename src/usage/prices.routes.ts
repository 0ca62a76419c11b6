// /api/prices: every price that applies to the organization (shipped, config, its own) and the
// organization's own overrides. A change drops the organization's routes (and with them its price
// book, usage/price-book.ts) on every replica: the very next /v1 request is priced anew, no restart.
// Prices travel as USD per 1M tokens and are stored as integer micro-USD (usage/pricing.ts).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import type { ModelPrice } from '../config.ts';
import { ApiError } from '../http/errors.ts';
import { parse } from '../http/validate.ts';
import { authorize } from '../auth/authorize.ts';
import { applyChange } from '../audit/change.ts';
import { MAX_USD_PER_1M, PRICE_BOOK_AS_OF, SHIPPED, fromMicro, toMicro } from './pricing.ts';
import { deleteOrgPrice, findOrgPrice, listOrgPrices, orgPriceBook, rowPrice, upsertOrgPrice, type OrgPriceRow } from './price-book.ts';

const SOURCES = ['organization', 'config', 'shipped'] as const;

const usdPer1m = z
  .number('must be a number (USD per 1M tokens)')
  .finite('must be a finite number')
  .min(0, 'must not be negative')
  .max(MAX_USD_PER_1M, `must be at most ${MAX_USD_PER_1M} (USD per 1M tokens)`)
  .refine((v) => toMicro(v) !== undefined, 'must have at most 6 decimals (whole micro-USD per 1M tokens)');

const putBody = z.strictObject({
  input_per_1m_usd: usdPer1m,
  output_per_1m_usd: usdPer1m,
  cached_input_per_1m_usd: usdPer1m.nullable().optional().describe('input served from the provider\'s prompt cache; absent or null: charged as input'),
  max_output_tokens: z.number().int('must be a whole number').min(0).max(10_000_000).nullable().optional().describe('the model\'s output cap: bounds a budget reservation when a request sets no max_tokens'),
  note: z.string().trim().max(500, 'must be at most 500 characters').nullable().optional(),
});
const listQuery = z.strictObject({
  q: z.string().trim().max(200).optional().describe('part of a model name (or of a shipped alias), any case'),
  source: z.enum(SOURCES).optional(),
});
// A model name as clients send it (provider prefixes and `:variants` included), nothing invisible.
const modelParam = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'must be 1-200 printable characters without spaces (URL-encode / and :)');

const amounts = {
  input_per_1m_usd: z.number(),
  output_per_1m_usd: z.number(),
  cached_input_per_1m_usd: z.number().nullable().describe('null: cached input is charged as input'),
};
const priceDoc = z.object({
  model: z.string(),
  ...amounts,
  max_output_tokens: z.number().nullable(),
  source: z.enum(SOURCES).describe('organization: set through /api/prices; config: the operator\'s `pricing`; shipped: Tollgate\'s price book'),
  provider: z.string().nullable().describe('shipped prices: the provider the price is for'),
  aliases: z.array(z.string()).describe('shipped prices: other names priced the same'),
  as_of: z.string().nullable().describe('shipped prices: the day the provider\'s page listed this price (YYYY-MM-DD)'),
  source_url: z.string().nullable().describe('shipped prices: the provider\'s pricing page'),
  note: z.string().nullable(),
  updated_at: z.string().nullable().describe('organization prices: last set'),
  replaces: z.object({ source: z.enum(['config', 'shipped']), ...amounts }).nullable().describe('organization prices: the price that applies again once this one is deleted'),
});
const listDoc = z.object({ data: z.array(priceDoc), shipped_as_of: z.string().describe('the day the shipped price book was compiled') });
const deletedDoc = z.object({ model: z.string(), deleted: z.boolean(), now: priceDoc.nullable().describe('the price that applies to the name now, under the name it is recorded as (null: the model is unpriced: its requests are logged with no cost, never $0)') });

type PriceView = z.infer<typeof priceDoc>;

const amountView = (p: ModelPrice) => ({ input_per_1m_usd: fromMicro(p.input), output_per_1m_usd: fromMicro(p.output), cached_input_per_1m_usd: p.cachedInput !== undefined ? fromMicro(p.cachedInput) : null });

function baseView(deps: Deps, model: string): PriceView | undefined {
  const hit = deps.prices.at(model);
  if (!hit) return undefined;
  const s = hit.source === 'shipped' ? SHIPPED.get(model) : undefined;
  return {
    model, ...amountView(hit.price), max_output_tokens: hit.price.maxOutputTokens ?? null, source: hit.source,
    provider: s?.provider ?? null, aliases: s?.aliases ?? [], as_of: s?.asOf ?? null, source_url: s?.sourceUrl ?? null, note: s?.note ?? null, updated_at: null, replaces: null,
  };
}

function orgView(deps: Deps, row: OrgPriceRow): PriceView {
  const p = rowPrice(row);
  const under = deps.prices.find(row.model);
  return {
    model: row.model, ...amountView(p), max_output_tokens: p.maxOutputTokens ?? null, source: 'organization',
    provider: null, aliases: [], as_of: null, source_url: null, note: row.note, updated_at: row.updated_at,
    replaces: under ? { source: under.source as 'config' | 'shipped', ...amountView(under.price) } : null,
  };
}

export function registerPriceRoutes(api: FastifyInstance, deps: Deps): void {
  const db = deps.db.kysely;
  const modelOf = (raw: string) => parse(modelParam, raw, 'model');

  api.get('/prices', { config: { action: 'provider.read', doc: { summary: 'Every price that applies to the organization, per 1M tokens, and where it comes from', description: 'The organization\'s own prices (PUT /api/prices/{model}) win over the operator\'s config `pricing`, which wins over the shipped price book. A model none of them prices is unpriced: its requests are logged with no cost and flagged, never $0.', tag: 'Providers', response: listDoc } } }, async (req) => {
    authorize(req.actor, 'provider.read');
    const q = parse(listQuery, req.query, 'query');
    const own = await listOrgPrices(db, req.actor.orgId);
    const byName = new Map<string, PriceView>();
    for (const name of [...SHIPPED.keys(), ...Object.keys(deps.prices.config)]) {
      const v = baseView(deps, name);
      if (v) byName.set(name, v);
    }
    for (const row of own) byName.set(row.model, orgView(deps, row));
    const needle = q.q?.toLowerCase();
    const data = [...byName.values()]
      .filter((v) => (q.source === undefined || v.source === q.source) && (!needle || v.model.toLowerCase().includes(needle) || v.aliases.some((a) => a.toLowerCase().includes(needle))))
      .sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
    return { data, shipped_as_of: PRICE_BOOK_AS_OF };
  });

  api.put<{ Params: { model: string } }>('/prices/:model', { config: { action: 'provider.write', doc: { summary: 'Set the organization\'s price for a model (over the shipped or config price, or for a model none prices)', description: 'URL-encode names holding `/` or `:` (`openai%2Fgpt-4o`). The price also applies to the dated and provider-prefixed forms of the name unless one of those has a price of its own. The next /v1 request on every replica is charged by it.', tag: 'Providers', body: putBody.meta({ examples: [{ input_per_1m_usd: 2.5, output_per_1m_usd: 10, cached_input_per_1m_usd: 1.25, note: 'negotiated rate' }] }), response: priceDoc } } }, async (req) => {
    authorize(req.actor, 'provider.write');
    const model = modelOf(req.params.model);
    const input = parse(putBody, req.body);
    return applyChange(deps, req.actor, async (trx, at) => {
      const before = await findOrgPrice(trx, req.actor.orgId, model);
      const row = await upsertOrgPrice(trx, req.actor.orgId, model, {
        input: toMicro(input.input_per_1m_usd)!,
        output: toMicro(input.output_per_1m_usd)!,
        cachedInput: input.cached_input_per_1m_usd != null ? toMicro(input.cached_input_per_1m_usd)! : null,
        maxOutputTokens: input.max_output_tokens ?? null,
        note: input.note || null,
      }, at);
      const after = orgView(deps, row);
      return { result: after, audit: [{ orgId: req.actor.orgId, action: before ? 'price.update' : 'price.create', targetType: 'price', targetId: model, before: before ? orgView(deps, before) : (baseView(deps, model) ?? null), after }], invalidate: [{ kind: 'routes', orgId: req.actor.orgId }] };
    });
  });

  api.delete<{ Params: { model: string } }>('/prices/:model', { config: { action: 'provider.write', doc: { summary: 'Delete the organization\'s price for a model: the config or shipped price applies again (or none)', tag: 'Providers', response: deletedDoc } } }, async (req) => {
    authorize(req.actor, 'provider.write');
    const model = modelOf(req.params.model);
    return applyChange(deps, req.actor, async (trx) => {
      const before = await findOrgPrice(trx, req.actor.orgId, model);
      if (!before || !(await deleteOrgPrice(trx, req.actor.orgId, model))) throw new ApiError('not_found', `the organization has no price of its own for ${JSON.stringify(model)}`, 'model');
      // What prices the name now: another of the organization's names (a shorter form), config or shipped.
      const rest = await listOrgPrices(trx, req.actor.orgId);
      const now = orgPriceBook(rest, deps.prices).find(model);
      const nowView = !now ? null : now.source === 'organization' ? orgView(deps, rest.find((r) => r.model === now.name)!) : baseView(deps, now.name)!;
      return { result: { model, deleted: true, now: nowView }, audit: [{ orgId: req.actor.orgId, action: 'price.delete', targetType: 'price', targetId: model, before: orgView(deps, before), after: nowView }], invalidate: [{ kind: 'routes', orgId: req.actor.orgId }] };
    });
  });
}
