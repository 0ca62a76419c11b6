// An organization's price book: its own prices (model_prices, set through /api/prices) over the
// process-wide book (config `pricing` over the shipped prices). Loaded with the organization's
// routes (providers/router.ts), so it lives exactly as long as they do: a price change publishes
// { kind: 'routes', orgId }, every replica drops that organization's routes and the next request
// loads them, and its prices, afresh. Nothing here runs per request.
import type { Kysely, Selectable } from 'kysely';
import type { ModelPrice } from '../config.ts';
import type { Database, ModelPricesTable } from '../db/types.ts';
import { priceNames, type PriceBook, type PriceMatch, type PriceSource } from './pricing.ts';

export interface OrgPriceBook {
  lookup(model: string): ModelPrice | undefined;
  /** where lookup's price comes from; undefined when the model is unpriced */
  source(model: string): PriceSource | undefined;
  /** lookup and source at once, with the name the price is recorded under */
  find(model: string): PriceMatch | undefined;
}

/** One of the organization's own prices, as stored. */
export type OrgPriceRow = Selectable<ModelPricesTable>;

type PriceRow = Pick<ModelPricesTable, 'model' | 'input_micro' | 'output_micro' | 'cached_input_micro' | 'max_output_tokens'>;

/** A model_prices row as the ModelPrice the pipeline charges by. */
export function rowPrice(r: PriceRow): ModelPrice {
  return {
    input: r.input_micro,
    output: r.output_micro,
    ...(r.cached_input_micro != null ? { cachedInput: r.cached_input_micro } : {}),
    ...(r.max_output_tokens != null ? { maxOutputTokens: r.max_output_tokens } : {}),
  };
}

/** The organization's prices over `base`; one query. */
export async function loadPriceBook(db: Kysely<Database>, orgId: number, base: PriceBook): Promise<OrgPriceBook> {
  const rows = await db
    .selectFrom('model_prices')
    .select(['model', 'input_micro', 'output_micro', 'cached_input_micro', 'max_output_tokens'])
    .where('org_id', '=', orgId)
    .execute();
  return orgPriceBook(rows, base);
}

export function orgPriceBook(rows: PriceRow[], base: PriceBook): OrgPriceBook {
  const own = new Map(rows.map((r) => [r.model, rowPrice(r)]));
  // The most specific name wins; under one name, the organization's price over config over shipped.
  const find = (model: string): PriceMatch | undefined => {
    if (own.size === 0) return base.find(model);
    for (const name of priceNames(model)) {
      const price = own.get(name);
      if (price) return { price, source: 'organization', name };
      const hit = base.at(name);
      if (hit) return hit;
    }
    return undefined;
  };
  return { find, lookup: (model) => find(model)?.price, source: (model) => find(model)?.source };
}

/** The organization's own prices (every row), by model name. */
export function listOrgPrices(db: Kysely<Database>, orgId: number) {
  return db.selectFrom('model_prices').selectAll().where('org_id', '=', orgId).orderBy('model').execute();
}

export function findOrgPrice(db: Kysely<Database>, orgId: number, model: string) {
  return db.selectFrom('model_prices').selectAll().where('org_id', '=', orgId).where('model', '=', model).executeTakeFirst();
}

export interface OrgPriceInput {
  input: number;
  output: number;
  cachedInput: number | null;
  maxOutputTokens: number | null;
  note: string | null;
}

/** Insert or replace the organization's price for one model name (one statement: no duplicate under a race). */
export async function upsertOrgPrice(db: Kysely<Database>, orgId: number, model: string, p: OrgPriceInput, at: string) {
  const values = { input_micro: p.input, output_micro: p.output, cached_input_micro: p.cachedInput, max_output_tokens: p.maxOutputTokens, note: p.note, updated_at: at };
  await db
    .insertInto('model_prices')
    .values({ org_id: orgId, model, ...values, created_at: at })
    .onConflict((oc) => oc.columns(['org_id', 'model']).doUpdateSet(values))
    .execute();
  return (await findOrgPrice(db, orgId, model))!;
}

export async function deleteOrgPrice(db: Kysely<Database>, orgId: number, model: string): Promise<boolean> {
  const r = await db.deleteFrom('model_prices').where('org_id', '=', orgId).where('model', '=', model).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}
