// The seeded organization's history (test/support/ui-seed.ts): each key's requests, day by day, as
// the proxy pipeline would have logged them — models from the key's mix, long prompts on the capable
// models, quiet weekends, a slow climb, a few refusals and provider failures. Pseudo-random with a
// fixed seed, so the same day gives the same screenshots.
import { randomUUID } from 'node:crypto';
import type { ModelPrice } from '../../src/config.ts';
import { BUILTIN_PRICES, costMicro } from '../../src/usage/pricing.ts';
import type { LogRow } from '../../src/usage/log-writer.ts';
import { LIGHT, type KeySpec, type Mix } from './ui-seed-data.ts';

const DAY = 86_400_000;
/** two months, so "this month" has a previous month to compare with */
export const HISTORY_DAYS = 62;
/** requests per KeySpec.perDay: the two months stay ~14,000 rows, written in a few seconds */
const TRAFFIC = 0.2;

// Models served by the seeded provider credentials, with list-like prices (config `pricing`), so
// nothing in the history reads "unpriced".
export const EXTRA_PRICES: Record<string, ModelPrice> = {
  'meta-llama/llama-3.3-70b-instruct': { input: 130_000, output: 400_000, maxOutputTokens: 16_384 },
  'mistralai/mistral-large': { input: 2_000_000, output: 6_000_000, maxOutputTokens: 32_768 },
  'qwen2.5-coder-32b': { input: 60_000, output: 200_000, maxOutputTokens: 8_192 },
};
const PRICES: Record<string, ModelPrice> = { ...BUILTIN_PRICES, ...EXTRA_PRICES };
const PROVIDER_OF = (model: string): string =>
  model.startsWith('claude') ? 'anthropic' : model.includes('/') ? 'openrouter' : model.startsWith('qwen') ? 'openai-compatible' : 'openai';

/** mulberry32: small, fast, deterministic */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = (mix: Mix, r: number): string => {
  const total = mix.reduce((s, [, w]) => s + w, 0);
  let x = r * total;
  for (const [m, w] of mix) if ((x -= w) < 0) return m;
  return mix[mix.length - 1]![0];
};

export interface Ids { orgId: number; keyId: number; teamId: number; userId: number | null }

/** One key's requests over the history, as the pipeline would have logged them. */
export function keyHistory(spec: KeySpec, index: number, ids: Ids, now: number, days: number): LogRow[] {
  const random = rng(0x5eed + index * 7919);
  const rows: LogRow[] = [];
  const today = Math.floor(now / DAY) * DAY;
  const firstDay = Math.min(spec.createdDaysAgo ?? HISTORY_DAYS, days - 1);
  const lastDay = spec.stoppedDaysAgo ?? 0;
  for (let ago = firstDay; ago >= lastDay; ago--) {
    const dayStart = today - ago * DAY;
    const weekday = new Date(dayStart).getUTCDay();
    const weekend = weekday === 0 || weekday === 6;
    // a slow climb over the month, weekends quiet, day-to-day noise
    const trend = 0.75 + 0.5 * (1 - ago / HISTORY_DAYS);
    const n = Math.round(spec.perDay * TRAFFIC * trend * (weekend ? 0.35 : 1) * (0.7 + 0.6 * random()));
    const dayEnd = ago === 0 ? now - 60_000 : dayStart + DAY;
    for (let i = 0; i < n; i++) {
      // office hours are busier: two of three requests between 08:00 and 18:00 UTC
      const hour = random() < 0.66 ? 8 + random() * 10 : random() * 24;
      const at = dayStart + hour * 3_600_000;
      if (at >= dayEnd) continue;
      const model = pick(spec.mix, random());
      const embedding = model.startsWith('text-embedding');
      const e = random();
      const refused = e < 0.012; // a rate limit Tollgate answered itself: logged, not spend
      const failed = !refused && e < 0.018; // the provider failed: no tokens
      // long retrieval-augmented prompts on the capable models, short ones on the small models
      const size = embedding ? 8000 : LIGHT.has(model) ? 4000 : 40_000;
      const tokensIn = refused || failed ? 0 : Math.round(size * (0.2 + random() * 1.6));
      const tokensOut = refused || failed || embedding ? 0 : Math.round(120 + random() * (LIGHT.has(model) ? 500 : 1800));
      const cached = tokensIn > 2000 && random() < 0.3 ? Math.round(tokensIn * 0.5) : 0;
      const latency = embedding ? 60 + random() * 200 : 400 + tokensOut * (6 + random() * 10);
      const stream = !embedding && random() < 0.55;
      rows.push({
        request_id: randomUUID(),
        created_at: new Date(at).toISOString(),
        org_id: ids.orgId,
        team_id: ids.teamId,
        user_id: ids.userId,
        key_id: ids.keyId,
        endpoint: embedding ? 'embeddings' : 'chat/completions',
        model,
        provider: refused ? null : PROVIDER_OF(model),
        status_code: refused ? 429 : failed ? 502 : 200,
        error_code: refused ? 'rate_limit_exceeded' : failed ? 'upstream_error' : null,
        streamed: stream ? 1 : 0,
        tokens_in: tokensIn,
        tokens_out: tokensOut,
        cached_tokens: cached,
        reasoning_tokens: model.startsWith('o') && tokensOut > 0 ? Math.round(tokensOut * 0.6) : 0,
        cost_micro: refused ? null : costMicro(PRICES[model]!, tokensIn, tokensOut),
        unpriced: 0,
        usage_estimated: 0,
        latency_ms: Math.round(refused ? 2 : latency),
        client_ip: `10.20.${(index % 8) + 1}.${(index * 37) % 250 + 3}`,
        upstream_ms: refused ? null : Math.round(latency * 0.96),
        ttfb_ms: refused || !stream ? null : Math.round(180 + random() * 500),
      });
    }
  }
  return rows;
}
