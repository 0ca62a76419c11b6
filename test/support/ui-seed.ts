// A believable organization for the dashboard's screenshots and browser tests: six teams, twenty
// people (admins, owners, members, a viewer), budgets and allocations, ~40 keys (service accounts,
// tags, a few disabled, revoked or about to expire), three provider credentials, access groups,
// management keys, pending invitations — and two months of requests and spend.
//
// Everything is made through the real /api. The history goes through the real log
// pipeline: rows are enqueued on the running LogWriter with past timestamps and flushed, so
// request_logs, spend_rollups, org_day_rollups, usage_rollups, key_spend and keys' last use are
// filled by the same transaction as in production (no hand-written SQL, rollups consistent with
// the logs; budget counters load their spend from those rollups). The objects themselves are made
// with the server's clock moved back a month (ShiftedClock), so "created" dates and the audit
// trail precede the spend instead of all reading "today". The data is pseudo-random with a fixed
// seed, so screenshots are stable between runs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Clock } from '../../src/clock.ts';
import type { ModelPrice } from '../../src/config.ts';
import { BUILTIN_PRICES, costMicro } from '../../src/usage/pricing.ts';
import type { LogRow } from '../../src/usage/log-writer.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { startGateway, type Gateway, type GatewayOptions } from './gateway.ts';
import { PASSWORD } from './browser.ts';

const DAY = 86_400_000;
/** two months, so "this month" has a previous month to compare with */
const HISTORY_DAYS = 62;
/** requests per KeySpec.perDay: the two months stay ~14,000 rows, written in a few seconds */
const TRAFFIC = 0.2;

/** Real time moved by `offsetMs`: the seed makes its objects a month ago, then sets it back to 0. */
export class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

// Models served by the seeded provider credentials, with list-like prices (config `pricing`), so
// nothing in the month reads "unpriced".
const EXTRA_PRICES: Record<string, ModelPrice> = {
  'meta-llama/llama-3.3-70b-instruct': { input: 130_000, output: 400_000, maxOutputTokens: 16_384 },
  'mistralai/mistral-large': { input: 2_000_000, output: 6_000_000, maxOutputTokens: 32_768 },
  'qwen2.5-coder-32b': { input: 60_000, output: 200_000, maxOutputTokens: 8_192 },
};
const PRICES: Record<string, ModelPrice> = { ...BUILTIN_PRICES, ...EXTRA_PRICES };
const PROVIDER_OF = (model: string): string =>
  model.startsWith('claude') ? 'anthropic' : model.includes('/') ? 'openrouter' : model.startsWith('qwen') ? 'openai-compatible' : 'openai';

/** A gateway that can hold the seed: the providers' hosts allowed, their models priced, a movable clock. */
export async function startSeededGateway(opts: GatewayOptions = {}): Promise<{ gw: Gateway; clock: ShiftedClock }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-seed-'));
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ pricing: EXTRA_PRICES }));
  const clock = new ShiftedClock();
  const gw = await startGateway({
    ...opts,
    clock,
    env: { TOLLGATE_CONFIG: file, TOLLGATE_UPSTREAM_ALLOW: '127.0.0.1,api.openai.com,api.anthropic.com,openrouter.ai,10.20.0.0/16', ...opts.env },
  });
  return { gw, clock };
}

// ---- who and what ---------------------------------------------------------------------------

interface TeamSpec { name: string; slug: string; description: string; selfService?: { max_budget_usd: number; require_expiry: boolean; max_expiry_days: number; max_keys_per_user: number } }
const TEAMS: TeamSpec[] = [
  { name: 'Search Relevance', slug: 'search', description: 'Ranking, query understanding and the answer box', selfService: { max_budget_usd: 50, require_expiry: true, max_expiry_days: 90, max_keys_per_user: 3 } },
  { name: 'Payments', slug: 'payments', description: 'Fraud review assistant and dispute summaries' },
  { name: 'Customer Support', slug: 'support', description: 'Ticket triage and the help-center assistant', selfService: { max_budget_usd: 25, require_expiry: false, max_expiry_days: 180, max_keys_per_user: 2 } },
  { name: 'Data Platform', slug: 'data-platform', description: 'Batch enrichment and embedding pipelines' },
  { name: 'Mobile', slug: 'mobile', description: 'In-app writing helpers for iOS and Android' },
  { name: 'Research', slug: 'research', description: 'Evaluations and model comparisons' },
];

interface PersonSpec { name: string; email: string; role: 'admin' | 'member' | 'viewer'; teams?: Record<string, 'owner' | 'member'> }
const PEOPLE: PersonSpec[] = [
  { name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin' },
  { name: 'Grace Hopper', email: 'grace@example.com', role: 'admin' },
  { name: 'Vera Rubin', email: 'vera@example.com', role: 'viewer' },
  { name: 'Owen Marsh', email: 'owen@example.com', role: 'member', teams: { search: 'owner' } },
  { name: 'Mia Chen', email: 'mia@example.com', role: 'member', teams: { search: 'member' } },
  { name: 'Max Weber', email: 'max@example.com', role: 'member', teams: { search: 'member' } },
  { name: 'Lena Fischer', email: 'lena@example.com', role: 'member', teams: { search: 'member', research: 'member' } },
  { name: 'Priya Nair', email: 'priya@example.com', role: 'member', teams: { payments: 'owner' } },
  { name: 'Tom Okafor', email: 'tom@example.com', role: 'member', teams: { payments: 'member' } },
  { name: 'Carlos Mendez', email: 'carlos@example.com', role: 'member', teams: { support: 'owner' } },
  { name: 'Aisha Khan', email: 'aisha@example.com', role: 'member', teams: { support: 'member' } },
  { name: 'Jonas Berg', email: 'jonas@example.com', role: 'member', teams: { support: 'member' } },
  { name: 'Yuki Tanaka', email: 'yuki@example.com', role: 'member', teams: { support: 'member' } },
  { name: 'Dana Kim', email: 'dana@example.com', role: 'member', teams: { 'data-platform': 'owner' } },
  { name: 'Noah Williams', email: 'noah@example.com', role: 'member', teams: { 'data-platform': 'member' } },
  { name: 'Malik Johnson', email: 'malik@example.com', role: 'member', teams: { mobile: 'owner' } },
  { name: 'Elena Petrova', email: 'elena@example.com', role: 'member', teams: { mobile: 'member' } },
  { name: 'Sofia Rossi', email: 'sofia@example.com', role: 'member', teams: { research: 'owner' } },
  { name: 'Ravi Patel', email: 'ravi@example.com', role: 'member', teams: { research: 'member' } },
  { name: 'Hannah Schmidt', email: 'hannah@example.com', role: 'member', teams: { research: 'member' } },
];

const SERVICE_ACCOUNTS: Array<{ team: string; name: string; description: string }> = [
  { team: 'search', name: 'search-indexer', description: 'Query rewriting during nightly indexing' },
  { team: 'search', name: 'answer-box', description: 'The answer box on search results' },
  { team: 'payments', name: 'fraud-review-worker', description: 'Summarizes flagged transactions for reviewers' },
  { team: 'support', name: 'support-bot', description: 'The help-center assistant' },
  { team: 'support', name: 'ticket-triage', description: 'Routes incoming tickets' },
  { team: 'data-platform', name: 'enrichment-pipeline', description: 'Nightly product catalogue enrichment' },
  { team: 'mobile', name: 'mobile-backend', description: 'Writing helpers behind the apps' },
  { team: 'research', name: 'eval-harness', description: 'Runs the weekly evaluation suite' },
];

// What a key calls: models with weights, and a typical prompt/completion size.
type Mix = Array<[model: string, weight: number]>;
const CHAT_LIGHT: Mix = [['gpt-4o-mini', 6], ['gpt-4.1-mini', 3], ['claude-haiku-4-5', 2]];
const CHAT_HEAVY: Mix = [['gpt-4.1', 4], ['claude-sonnet-4-5', 4], ['gpt-4o', 2], ['o4-mini', 1]];
const EMBED: Mix = [['text-embedding-3-small', 5], ['text-embedding-3-large', 1]];
const EVALS: Mix = [['claude-opus-4-1', 1], ['claude-sonnet-4-5', 3], ['gpt-4.1', 3], ['o3', 2], ['mistralai/mistral-large', 1], ['meta-llama/llama-3.3-70b-instruct', 2]];
const CODE: Mix = [['qwen2.5-coder-32b', 5], ['gpt-4.1-mini', 2]];
const LIGHT = new Set(['gpt-4o-mini', 'gpt-4.1-mini', 'claude-haiku-4-5', 'qwen2.5-coder-32b', 'meta-llama/llama-3.3-70b-instruct']);

interface KeySpec {
  name: string;
  team: string;
  /** a person's email, or `sa:<service account name>` */
  owner: string;
  tags?: string[];
  mix: Mix;
  /** requests on a weekday (weekends get ~35%) */
  perDay: number;
  /** has a monthly hard budget, which the month's spend fills to this fraction */
  budgetFill?: number;
  state?: 'disabled' | 'revoked';
  /** the day (days ago) its traffic stopped, for disabled and revoked keys */
  stoppedDaysAgo?: number;
  /** expires this many days from now */
  expiresInDays?: number;
  /** made this many days ago (default: before the history starts) */
  createdDaysAgo?: number;
  /** rotated once, the old secret in a grace period */
  rotated?: boolean;
}

const KEYS: KeySpec[] = [
  // Search Relevance
  { name: 'answer-box-prod', team: 'search', owner: 'sa:answer-box', tags: ['prod'], mix: CHAT_HEAVY, perDay: 110, budgetFill: 0.72, rotated: true },
  { name: 'answer-box-staging', team: 'search', owner: 'sa:answer-box', tags: ['staging'], mix: CHAT_LIGHT, perDay: 40 },
  { name: 'query-rewriter', team: 'search', owner: 'sa:search-indexer', tags: ['prod', 'batch'], mix: CHAT_LIGHT, perDay: 90 },
  { name: 'indexer-embeddings', team: 'search', owner: 'sa:search-indexer', tags: ['batch'], mix: EMBED, perDay: 60 },
  { name: 'mia-notebook', team: 'search', owner: 'mia@example.com', tags: ['notebook'], mix: CHAT_HEAVY, perDay: 9, budgetFill: 0.45, expiresInDays: 45 },
  { name: 'mia-ranking-experiments', team: 'search', owner: 'mia@example.com', tags: ['experiment'], mix: CHAT_LIGHT, perDay: 14, budgetFill: 0.88, expiresInDays: 3 },
  { name: 'max-prototype', team: 'search', owner: 'max@example.com', tags: ['notebook'], mix: CHAT_LIGHT, perDay: 12, budgetFill: 0.35, expiresInDays: 60 },
  { name: 'lena-relevance-labels', team: 'search', owner: 'lena@example.com', mix: CHAT_HEAVY, perDay: 6, budgetFill: 0.45, expiresInDays: 20 },
  { name: 'owen-laptop', team: 'search', owner: 'owen@example.com', mix: CHAT_LIGHT, perDay: 5, state: 'revoked', stoppedDaysAgo: 11 },
  // Payments
  { name: 'fraud-review-prod', team: 'payments', owner: 'sa:fraud-review-worker', tags: ['prod', 'pci'], mix: CHAT_HEAVY, perDay: 45, budgetFill: 0.64 },
  { name: 'dispute-summaries', team: 'payments', owner: 'sa:fraud-review-worker', tags: ['prod'], mix: CHAT_LIGHT, perDay: 35 },
  { name: 'priya-analysis', team: 'payments', owner: 'priya@example.com', mix: CHAT_HEAVY, perDay: 4, budgetFill: 0.3 },
  { name: 'tom-sandbox', team: 'payments', owner: 'tom@example.com', tags: ['sandbox'], mix: CHAT_LIGHT, perDay: 8, budgetFill: 0.55, state: 'disabled', stoppedDaysAgo: 4 },
  // Customer Support
  { name: 'support-bot-prod', team: 'support', owner: 'sa:support-bot', tags: ['prod'], mix: CHAT_HEAVY, perDay: 160, budgetFill: 0.69 },
  { name: 'support-bot-staging', team: 'support', owner: 'sa:support-bot', tags: ['staging'], mix: CHAT_LIGHT, perDay: 30 },
  { name: 'ticket-triage', team: 'support', owner: 'sa:ticket-triage', tags: ['prod'], mix: CHAT_LIGHT, perDay: 140 },
  { name: 'triage-backfill', team: 'support', owner: 'sa:ticket-triage', tags: ['batch'], mix: CHAT_LIGHT, perDay: 50, state: 'revoked', stoppedDaysAgo: 18, createdDaysAgo: 29 },
  { name: 'aisha-macros', team: 'support', owner: 'aisha@example.com', mix: CHAT_LIGHT, perDay: 10, budgetFill: 0.55, expiresInDays: 30 },
  { name: 'jonas-tone-checker', team: 'support', owner: 'jonas@example.com', mix: CHAT_LIGHT, perDay: 7, budgetFill: 0.4 },
  { name: 'yuki-translations', team: 'support', owner: 'yuki@example.com', mix: CHAT_HEAVY, perDay: 5, budgetFill: 0.35, expiresInDays: 2 },
  { name: 'carlos-reports', team: 'support', owner: 'carlos@example.com', mix: CHAT_HEAVY, perDay: 3, budgetFill: 0.88 },
  // Data Platform
  { name: 'catalogue-enrichment', team: 'data-platform', owner: 'sa:enrichment-pipeline', tags: ['prod', 'batch'], mix: CHAT_LIGHT, perDay: 120, budgetFill: 0.77 },
  { name: 'catalogue-embeddings', team: 'data-platform', owner: 'sa:enrichment-pipeline', tags: ['prod', 'batch'], mix: EMBED, perDay: 140 },
  { name: 'dbt-docs-writer', team: 'data-platform', owner: 'sa:enrichment-pipeline', tags: ['batch'], mix: CODE, perDay: 25 },
  { name: 'dana-sql-helper', team: 'data-platform', owner: 'dana@example.com', mix: CODE, perDay: 12, budgetFill: 0.55 },
  { name: 'noah-notebook', team: 'data-platform', owner: 'noah@example.com', tags: ['notebook'], mix: CHAT_LIGHT, perDay: 6, budgetFill: 0.4, expiresInDays: 5 },
  // Mobile
  { name: 'mobile-writing-ios', team: 'mobile', owner: 'sa:mobile-backend', tags: ['prod', 'ios'], mix: CHAT_LIGHT, perDay: 70, budgetFill: 0.6 },
  { name: 'mobile-writing-android', team: 'mobile', owner: 'sa:mobile-backend', tags: ['prod', 'android'], mix: CHAT_LIGHT, perDay: 60, budgetFill: 0.6 },
  { name: 'mobile-beta', team: 'mobile', owner: 'sa:mobile-backend', tags: ['staging'], mix: CHAT_HEAVY, perDay: 8, createdDaysAgo: 9 },
  { name: 'malik-prototypes', team: 'mobile', owner: 'malik@example.com', mix: CHAT_LIGHT, perDay: 4, budgetFill: 0.55 },
  { name: 'elena-copy-review', team: 'mobile', owner: 'elena@example.com', mix: CHAT_LIGHT, perDay: 5, budgetFill: 0.4, state: 'disabled', stoppedDaysAgo: 2 },
  // Research
  { name: 'weekly-evals', team: 'research', owner: 'sa:eval-harness', tags: ['evals'], mix: EVALS, perDay: 55, budgetFill: 0.83 },
  { name: 'evals-open-models', team: 'research', owner: 'sa:eval-harness', tags: ['evals', 'openrouter'], mix: [['meta-llama/llama-3.3-70b-instruct', 3], ['mistralai/mistral-large', 1]], perDay: 40 },
  { name: 'sofia-reading-group', team: 'research', owner: 'sofia@example.com', mix: EVALS, perDay: 4, budgetFill: 0.25 },
  { name: 'ravi-distillation', team: 'research', owner: 'ravi@example.com', tags: ['experiment'], mix: CHAT_HEAVY, perDay: 9, budgetFill: 0.52, expiresInDays: 14 },
  { name: 'hannah-benchmarks', team: 'research', owner: 'hannah@example.com', mix: EVALS, perDay: 5, budgetFill: 0.3 },
  { name: 'lena-eval-notes', team: 'research', owner: 'lena@example.com', mix: CHAT_LIGHT, perDay: 3, budgetFill: 0.2 },
  { name: 'hannah-old-benchmarks', team: 'research', owner: 'hannah@example.com', mix: EVALS, perDay: 6, state: 'revoked', stoppedDaysAgo: 24, createdDaysAgo: 30 },
  { name: 'coder-assistant', team: 'research', owner: 'sa:eval-harness', tags: ['internal'], mix: CODE, perDay: 30, createdDaysAgo: 16 },
];

// ---- a month of traffic ---------------------------------------------------------------------

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

interface Ids { orgId: number; keyId: number; teamId: number; userId: number | null }

/** One key's requests over the month, as the pipeline would have logged them. */
function keyHistory(spec: KeySpec, index: number, ids: Ids, now: number, days: number): LogRow[] {
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

// ---- the seed -------------------------------------------------------------------------------

export interface Seeded {
  orgId: number;
  password: string;
  /** emails by role */
  admin: string;
  viewer: string;
  owner: string;
  member: string;
  otherMember: string;
  teams: Record<string, { id: number; name: string }>;
  keys: Record<string, { id: number; teamId: number }>;
  /** log rows written (the month of history) */
  logRows: number;
  /** spend of the month seeded, in USD */
  spendUsd: number;
}

async function ok(gw: Gateway, method: string, p: string, body: unknown, expect = [200, 201]): Promise<any> {
  const res = await gw.api(method, p, body);
  if (!expect.includes(res.status)) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const ceilTo = (x: number, step: number) => Math.max(step, Math.ceil(x / step) * step);

/**
 * Fills `gw` (from startSeededGateway) with the organization above and two months of requests
 * ending now (`historyDays` fewer). Everyone signs in with PASSWORD.
 */
export async function seedOrganization(gw: Gateway, clock: ShiftedClock, opts: { historyDays?: number } = {}): Promise<Seeded> {
  // fewer days of requests for tests that need the organization more than its history
  const days = Math.min(opts.historyDays ?? HISTORY_DAYS, HISTORY_DAYS);
  const at = (daysAgo: number) => (clock.offsetMs = -daysAgo * DAY);
  const now = Date.now();
  at(HISTORY_DAYS + 2);
  const org = await ok(gw, 'GET', '/api/orgs/current', undefined);
  const orgId: number = org.id;

  // Teams, their self-service policies; providers; access groups.
  const teams: Seeded['teams'] = {};
  for (const t of TEAMS) {
    const team = await ok(gw, 'POST', '/api/teams', { name: t.name, slug: t.slug, description: t.description });
    teams[t.slug] = { id: team.id, name: t.name };
    if (t.selfService) await ok(gw, 'PUT', `/api/teams/${team.id}/self-service`, { enabled: true, ...t.selfService });
  }
  await ok(gw, 'POST', '/api/providers', { name: 'anthropic-prod', provider: 'anthropic', base_url: 'https://api.anthropic.com/v1', api_key: `sk-ant-api03-${'x'.repeat(40)}Q7fM`, models: ['claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-1'] });
  await ok(gw, 'POST', '/api/providers', { name: 'openrouter', provider: 'openrouter', base_url: 'https://openrouter.ai/api/v1', api_key: `sk-or-v1-${'y'.repeat(48)}9c2a`, models: ['meta-llama/llama-3.3-70b-instruct', 'mistralai/mistral-large'] });
  await ok(gw, 'POST', '/api/providers', { name: 'gpu-pool-vllm', provider: 'openai-compatible', base_url: 'http://10.20.4.12:8000/v1', api_key: `vllm-${'z'.repeat(24)}h3Lk`, models: ['qwen2.5-coder-32b'] });
  await ok(gw, 'POST', '/api/access-groups', { name: 'general-purpose', description: 'Fast, inexpensive chat models for everyday work', models: ['gpt-4o-mini', 'gpt-4.1-mini', 'claude-haiku-4-5'] });
  await ok(gw, 'POST', '/api/access-groups', { name: 'frontier', description: 'The most capable models; ask your team owner', models: ['gpt-4.1', 'o3', 'claude-sonnet-4-5', 'claude-opus-4-1'] });
  await ok(gw, 'POST', '/api/access-groups', { name: 'embeddings', description: 'Embedding models for search and pipelines', models: ['text-embedding-3-small', 'text-embedding-3-large'] });

  // People: made through the API; the password is one hash set in the database (people.ts does
  // the same: setting one through the API is the invitations' part, and hashing 20 is 4 s).
  const userIds: Record<string, number> = {};
  for (const p of PEOPLE) {
    const u = await ok(gw, 'POST', '/api/users', { external_id: p.email, email: p.email, name: p.name, role: p.role });
    userIds[p.email] = u.id;
    for (const [slug, role] of Object.entries(p.teams ?? {})) await ok(gw, 'PUT', `/api/teams/${teams[slug]!.id}/members/${u.id}`, { role });
  }
  const hash = await hashPassword(PASSWORD);
  await gw.runtime.deps.db.kysely.updateTable('users').set({ password_hash: hash }).where('id', 'in', Object.values(userIds)).execute();

  const saIds: Record<string, number> = {};
  for (const sa of SERVICE_ACCOUNTS) saIds[sa.name] = (await ok(gw, 'POST', `/api/teams/${teams[sa.team]!.id}/service-accounts`, { name: sa.name, description: sa.description })).id;

  // The month, planned before the budgets so that they fit it: teams at 55–95% of a monthly
  // budget, members within their allocations (a hard budget the spend must not pass).
  const planned = KEYS.map((spec, i) => ({ spec, rows: keyHistory(spec, i, { orgId, keyId: 0, teamId: teams[spec.team]!.id, userId: spec.owner.startsWith('sa:') ? null : userIds[spec.owner]! }, now, days) }));
  const monthStart = new Date(now).toISOString().slice(0, 7);
  const monthCost = (rows: LogRow[]) => rows.reduce((s, r) => s + (r.created_at.startsWith(monthStart) ? Number(r.cost_micro ?? 0) : 0), 0) / 1e6;
  const teamSpend = new Map<string, number>();
  const memberSpend = new Map<string, number>();
  const memberCaps = new Map<string, number>();
  const keyBudget = new Map<string, number>();
  for (const { spec, rows } of planned) {
    const cost = monthCost(rows);
    teamSpend.set(spec.team, (teamSpend.get(spec.team) ?? 0) + cost);
    if (spec.budgetFill) keyBudget.set(spec.name, ceilTo(cost / spec.budgetFill, 5));
    if (!spec.owner.startsWith('sa:')) {
      const k = `${spec.team}|${spec.owner}`;
      memberSpend.set(k, (memberSpend.get(k) ?? 0) + cost);
      memberCaps.set(k, (memberCaps.get(k) ?? 0) + (keyBudget.get(spec.name) ?? 0));
    }
  }
  const fill = [0.62, 0.81, 0.58, 0.93, 0.71, 0.66];
  for (const [i, t] of TEAMS.entries()) {
    const budget = ceilTo((teamSpend.get(t.slug) ?? 0) / fill[i]!, 50);
    await ok(gw, 'PUT', `/api/teams/${teams[t.slug]!.id}/limits`, { max_budget_usd: budget, budget_period: 'monthly', budget_mode: 'hard', alert_thresholds: [0.8, 1], rpm: 600 });
  }
  for (const p of PEOPLE) {
    for (const slug of Object.keys(p.teams ?? {})) {
      const k = `${slug}|${p.email}`;
      const allocation = ceilTo(Math.max((memberSpend.get(k) ?? 0) / 0.6, (memberCaps.get(k) ?? 0) + 5), 5);
      await ok(gw, 'PUT', `/api/teams/${teams[slug]!.id}/members/${userIds[p.email]}`, { allocation_usd: allocation });
    }
  }

  // Keys, each made on its own day; then what happened to some of them.
  const keys: Seeded['keys'] = {};
  const rows: LogRow[] = [];
  const order = [...planned].sort((a, b) => (b.spec.createdDaysAgo ?? HISTORY_DAYS) - (a.spec.createdDaysAgo ?? HISTORY_DAYS));
  for (const [j, { spec, rows: history }] of order.entries()) {
    // a few minutes apart, in id order, all before their first request
    at((spec.createdDaysAgo ?? HISTORY_DAYS) + 1.5 - j * 0.01);
    const teamId = teams[spec.team]!.id;
    const owner = spec.owner.startsWith('sa:') ? { service_account_id: saIds[spec.owner.slice(3)]! } : { user_id: userIds[spec.owner]! };
    const expires = spec.expiresInDays !== undefined ? { expires_at: new Date(now + spec.expiresInDays * DAY).toISOString() } : {};
    const budget = keyBudget.get(spec.name);
    const limits = budget ? { max_budget_usd: budget, budget_period: 'monthly', budget_mode: 'hard' } : {};
    const key = await ok(gw, 'POST', '/api/keys', { name: spec.name, team_id: teamId, ...owner, ...(spec.tags ? { tags: spec.tags } : {}), ...expires, ...limits });
    keys[spec.name] = { id: key.id, teamId };
    for (const r of history) rows.push({ ...r, key_id: key.id });
  }
  // What happened since, in the order it happened (the audit log reads newest first by id).
  const events: Array<{ daysAgo: number; run: () => Promise<unknown> }> = [];
  for (const spec of KEYS) {
    const id = keys[spec.name]!.id;
    if (spec.rotated) events.push({ daysAgo: 1.2, run: () => ok(gw, 'POST', `/api/keys/${id}/rotate`, { grace_period_seconds: 7 * 86_400 }) });
    // the day after its last traffic
    if (spec.state === 'revoked') events.push({ daysAgo: spec.stoppedDaysAgo! - 1, run: () => ok(gw, 'DELETE', `/api/keys/${id}`, undefined, [200, 204]) });
    if (spec.state === 'disabled') events.push({ daysAgo: spec.stoppedDaysAgo! - 1, run: () => ok(gw, 'PATCH', `/api/keys/${id}`, { status: 'disabled' }) });
  }
  events.push({ daysAgo: 6, run: () => ok(gw, 'POST', '/api/management-keys', { name: 'terraform', description: 'Infrastructure pipeline: teams and budgets', role: 'admin' }) });
  events.push({ daysAgo: 5.5, run: () => ok(gw, 'POST', '/api/management-keys', { name: 'search-ci', description: 'Deploy pipeline of the search services', role: 'owner', team_id: teams['search']!.id }) });
  events.push({ daysAgo: 0.8, run: () => ok(gw, 'POST', '/api/invitations', { email: 'li.wei@example.com', role: 'member', team_id: teams['mobile']!.id, team_role: 'member' }) });
  events.push({ daysAgo: 0.3, run: () => ok(gw, 'POST', '/api/invitations', { email: 'sam.oduya@example.com', role: 'member', team_id: teams['research']!.id, team_role: 'member' }) });
  for (const e of events.sort((a, b) => b.daysAgo - a.daysAgo)) {
    at(e.daysAgo);
    await e.run();
  }
  clock.offsetMs = 0;

  // The month of traffic, through the log writer, oldest first.
  rows.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
  for (const r of rows) gw.runtime.deps.logWriter.enqueue(r);
  await gw.flush();
  const spendUsd = rows.reduce((s, r) => s + Number(r.cost_micro ?? 0), 0) / 1e6;
  return {
    orgId,
    password: PASSWORD,
    admin: 'ada@example.com',
    viewer: 'vera@example.com',
    owner: 'owen@example.com',
    member: 'mia@example.com',
    otherMember: 'max@example.com',
    teams,
    keys,
    logRows: rows.length,
    spendUsd,
  };
}
