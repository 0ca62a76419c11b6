// Prices in integer micro-USD per 1M tokens. A request's cost is rounded UP to a whole micro-USD,
// so Tollgate never under-charges a budget. A model with no known price is "unpriced": its cost is
// null (never $0) and it is reported as such in logs and spend.
import type { ModelPrice } from '../config.ts';
import type { Usage } from '../providers/types.ts';

/**
 * Public list prices (USD per 1M tokens × 1e6). Override or extend with config `pricing` or per route.
 * `imageTokens`: the most one image input can cost the model, from the provider's documented
 * formula at its largest size (tiles: 85 + 170 × 8 for gpt-4o/4.1; patches: 1,536 × the model's
 * multiplier for 4.1-mini/nano and o4-mini); claude models scale images to at most ~1,600 tokens.
 */
export const BUILTIN_PRICES: Record<string, ModelPrice> = {
  'gpt-4o': { input: 2_500_000, output: 10_000_000, maxOutputTokens: 16_384, imageTokens: 1_445 },
  'gpt-4o-mini': { input: 150_000, output: 600_000, maxOutputTokens: 16_384, imageTokens: 48_169 },
  'gpt-4.1': { input: 2_000_000, output: 8_000_000, maxOutputTokens: 32_768, imageTokens: 1_445 },
  'gpt-4.1-mini': { input: 400_000, output: 1_600_000, maxOutputTokens: 32_768, imageTokens: 2_488 },
  'gpt-4.1-nano': { input: 100_000, output: 400_000, maxOutputTokens: 32_768, imageTokens: 3_779 },
  'o3': { input: 2_000_000, output: 8_000_000, maxOutputTokens: 100_000, imageTokens: 1_275 },
  'o4-mini': { input: 1_100_000, output: 4_400_000, maxOutputTokens: 100_000, imageTokens: 2_642 },
  'gpt-3.5-turbo': { input: 500_000, output: 1_500_000, maxOutputTokens: 4_096 },
  'text-embedding-3-small': { input: 20_000, output: 0, maxOutputTokens: 0 },
  'text-embedding-3-large': { input: 130_000, output: 0, maxOutputTokens: 0 },
  'claude-sonnet-4-5': { input: 3_000_000, output: 15_000_000, maxOutputTokens: 64_000, imageTokens: 1_600 },
  'claude-opus-4-1': { input: 15_000_000, output: 75_000_000, maxOutputTokens: 32_000, imageTokens: 1_600 },
  'claude-haiku-4-5': { input: 1_000_000, output: 5_000_000, maxOutputTokens: 64_000, imageTokens: 1_600 },
  'claude-3-5-haiku-latest': { input: 800_000, output: 4_000_000, maxOutputTokens: 8_192, imageTokens: 1_600 },
};

/** A request's cost from its usage: cached input at its own price when the price book has one. */
export function usageCostMicro(price: ModelPrice, usage: Usage): number {
  const cached = price.cachedInput !== undefined && usage.cachedTokens ? Math.min(usage.cachedTokens, usage.tokensIn) : 0;
  return Math.ceil(((usage.tokensIn - cached) * price.input + cached * price.cachedInput! + usage.tokensOut * price.output) / 1_000_000);
}

export function costMicro(price: ModelPrice, tokensIn: number, tokensOut: number): number {
  return Math.ceil((tokensIn * price.input + tokensOut * price.output) / 1_000_000);
}

export class PriceBook {
  private readonly prices: Record<string, ModelPrice>;
  constructor(overrides: Record<string, ModelPrice>) {
    // No prototype: a model named `toString` or `constructor` (names come from clients) has no price.
    this.prices = Object.assign(Object.create(null) as Record<string, ModelPrice>, BUILTIN_PRICES, overrides);
  }
  /** Exact name first, then the name without a dated suffix (gpt-4o-2024-08-06 → gpt-4o). */
  lookup(model: string): ModelPrice | undefined {
    return this.prices[model] ?? this.prices[model.replace(/-\d{4}-\d{2}-\d{2}$/, '')];
  }
}
