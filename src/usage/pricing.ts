// Prices in integer micro-USD per 1M tokens. A request's cost is rounded UP to a whole micro-USD,
// so Tollgate never under-charges a budget. A model with no known price is "unpriced": its cost is
// null (never $0) and it is reported as such in logs and spend.
//
// The shipped prices are data (price-book.json: USD per 1M tokens, each with its pricing page and
// date), converted to micro-USD once, here, at load. Precedence, for the most specific name first
// (priceNames): an organization's /api/prices row (price-book.ts), then config `pricing`, then shipped.
import type { ModelPrice } from '../config.ts';
import type { Usage } from '../providers/types.ts';
import book from './price-book.json' with { type: 'json' };

export type PriceSource = 'organization' | 'config' | 'shipped';

/** One shipped entry, as the book records it (prices already in micro-USD). */
export interface ShippedPrice {
  model: string;
  provider: string;
  price: ModelPrice;
  aliases: string[];
  /** the provider's pricing page the numbers were taken from */
  sourceUrl: string;
  /** YYYY-MM-DD: the day that page listed them */
  asOf: string;
  note: string | undefined;
}

/** The largest price Tollgate accepts anywhere: $1M per 1M tokens (far above any real model). */
export const MAX_USD_PER_1M = 1_000_000;

/** USD per 1M tokens → integer micro-USD per 1M tokens; undefined when not a usable price. */
export function toMicro(usd: number): number | undefined {
  if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0 || usd > MAX_USD_PER_1M) return undefined;
  const micro = Math.round(usd * 1_000_000);
  // More than six decimals would be silently rounded away: refuse rather than price something else.
  return Math.abs(micro - usd * 1_000_000) < 1e-6 * Math.max(1, micro) ? micro : undefined;
}

export const fromMicro = (micro: number): number => micro / 1_000_000;

interface BookEntry {
  model: string;
  provider: string;
  input: number;
  output: number;
  cached_input?: number;
  max_output_tokens?: number;
  image_tokens?: number;
  aliases?: string[];
  source: string;
  as_of: string;
  note?: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Reads the book once; a bad entry stops start-up naming it (a wrong shipped price must never bill). */
export function readBook(raw: { as_of: string; models: BookEntry[] }): { asOf: string; entries: ShippedPrice[] } {
  if (!DATE.test(raw.as_of)) throw new Error(`price-book.json: as_of must be YYYY-MM-DD, not ${raw.as_of}`);
  const entries = raw.models.map((e, i) => {
    const at = `price-book.json models[${i}] (${e.model})`;
    const micro = (field: 'input' | 'output' | 'cached_input') => {
      const v = toMicro(e[field]!);
      if (v === undefined) throw new Error(`${at}: ${field} must be USD per 1M tokens, 0 to ${MAX_USD_PER_1M}, at most 6 decimals`);
      return v;
    };
    const count = (field: 'max_output_tokens' | 'image_tokens') => {
      const v = e[field];
      if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new Error(`${at}: ${field} must be a whole number of tokens`);
      return v;
    };
    if (!e.model || typeof e.model !== 'string') throw new Error(`${at}: model must be a name`);
    if (!/^https:\/\//.test(e.source)) throw new Error(`${at}: source must be the provider's pricing page (https URL)`);
    if (!DATE.test(e.as_of)) throw new Error(`${at}: as_of must be YYYY-MM-DD`);
    const maxOutputTokens = count('max_output_tokens');
    const imageTokens = count('image_tokens');
    const price: ModelPrice = {
      input: micro('input'),
      output: micro('output'),
      ...(e.cached_input !== undefined ? { cachedInput: micro('cached_input') } : {}),
      ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}),
      ...(imageTokens !== undefined ? { imageTokens } : {}),
    };
    return { model: e.model, provider: e.provider, price, aliases: e.aliases ?? [], sourceUrl: e.source, asOf: e.as_of, note: e.note };
  });
  return { asOf: raw.as_of, entries };
}

const shipped = readBook(book);
/** The day the shipped book as a whole was last compiled from the providers' pages. */
export const PRICE_BOOK_AS_OF = shipped.asOf;
/** Shipped entries by their canonical name (no prototype: names come from clients). */
export const SHIPPED: ReadonlyMap<string, ShippedPrice> = new Map(shipped.entries.map((e) => [e.model, e]));
/** Another name a provider or OpenRouter uses → the canonical name (claude-sonnet-4.5 → claude-sonnet-4-5). */
const ALIASES: ReadonlyMap<string, string> = new Map(shipped.entries.flatMap((e) => e.aliases.map((a) => [a, e.model] as const)));

/** Shipped prices by canonical name, for callers listing them. */
export const BUILTIN_PRICES: Record<string, ModelPrice> = Object.assign(Object.create(null) as Record<string, ModelPrice>, Object.fromEntries(shipped.entries.map((e) => [e.model, e.price])));

const DATED = /-(?:\d{4}-\d{2}-\d{2}|\d{8})$/;

/**
 * The names a model is priced under, most specific first: itself, without a dated suffix
 * (gpt-4o-2024-08-06 → gpt-4o, claude-sonnet-4-5-20250929 → claude-sonnet-4-5), then without a
 * provider prefix (openai/gpt-4o, anthropic/claude-sonnet-4.5 as OpenRouter names them), each
 * followed by the canonical name it is an alias of. A `:variant` (OpenRouter's `:free`) is kept:
 * a variant is priced only under its own name.
 */
export function priceNames(model: string): string[] {
  const out: string[] = [];
  const add = (name: string) => {
    if (!name || out.includes(name)) return;
    out.push(name);
    const canonical = ALIASES.get(name);
    if (canonical !== undefined && !out.includes(canonical)) out.push(canonical);
  };
  add(model);
  add(model.replace(DATED, ''));
  const slash = model.indexOf('/');
  if (slash > 0) {
    const bare = model.slice(slash + 1);
    add(bare);
    add(bare.replace(DATED, ''));
  }
  return out;
}

/** A request's cost from its usage: cached input at its own price when the price book has one. */
export function usageCostMicro(price: ModelPrice, usage: Usage): number {
  // No cached price: cached tokens are plain input (0 × an absent price would be NaN, not 0).
  if (price.cachedInput === undefined || !usage.cachedTokens) return costMicro(price, usage.tokensIn, usage.tokensOut);
  const cached = Math.min(usage.cachedTokens, usage.tokensIn);
  return Math.ceil(((usage.tokensIn - cached) * price.input + cached * price.cachedInput + usage.tokensOut * price.output) / 1_000_000);
}

export function costMicro(price: ModelPrice, tokensIn: number, tokensOut: number): number {
  return Math.ceil((tokensIn * price.input + tokensOut * price.output) / 1_000_000);
}

export interface PriceMatch {
  price: ModelPrice;
  source: PriceSource;
  /** the name the price is recorded under (canonical for shipped ones) */
  name: string;
}

/** The process-wide book: shipped prices under the operator's config `pricing`. */
export class PriceBook {
  /** the config `pricing` (no prototype: a model named `toString` has no price) */
  readonly config: Record<string, ModelPrice>;
  constructor(overrides: Record<string, ModelPrice>) {
    this.config = Object.assign(Object.create(null) as Record<string, ModelPrice>, overrides);
  }

  lookup(model: string): ModelPrice | undefined {
    return this.find(model)?.price;
  }

  find(model: string): PriceMatch | undefined {
    for (const name of priceNames(model)) {
      const hit = this.at(name);
      if (hit) return hit;
    }
    return undefined;
  }

  /** The price recorded under exactly this name: config over shipped. */
  at(name: string): PriceMatch | undefined {
    const own = this.config[name];
    if (own) return { price: own, source: 'config', name };
    const s = SHIPPED.get(name);
    return s ? { price: s.price, source: 'shipped', name } : undefined;
  }
}
