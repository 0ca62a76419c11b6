// Who and what the dashboard's seeded organization holds (test/support/ui-seed.ts): teams,
// people, service accounts and keys, with what each key calls and how much. Emails use example.com.

export interface TeamSpec { name: string; slug: string; description: string; selfService?: { max_budget_usd: number; require_expiry: boolean; max_expiry_days: number; max_keys_per_user: number } }
export const TEAMS: TeamSpec[] = [
  { name: 'Search Relevance', slug: 'search', description: 'Ranking, query understanding and the answer box', selfService: { max_budget_usd: 50, require_expiry: true, max_expiry_days: 90, max_keys_per_user: 3 } },
  { name: 'Payments', slug: 'payments', description: 'Fraud review assistant and dispute summaries' },
  { name: 'Customer Support', slug: 'support', description: 'Ticket triage and the help-center assistant', selfService: { max_budget_usd: 25, require_expiry: false, max_expiry_days: 180, max_keys_per_user: 2 } },
  { name: 'Data Platform', slug: 'data-platform', description: 'Batch enrichment and embedding pipelines' },
  { name: 'Mobile', slug: 'mobile', description: 'In-app writing helpers for iOS and Android' },
  { name: 'Research', slug: 'research', description: 'Evaluations and model comparisons' },
];

export interface PersonSpec { name: string; email: string; role: 'admin' | 'member' | 'viewer'; teams?: Record<string, 'owner' | 'member'> }
export const PEOPLE: PersonSpec[] = [
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

export const SERVICE_ACCOUNTS: Array<{ team: string; name: string; description: string }> = [
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
export type Mix = Array<[model: string, weight: number]>;
const CHAT_LIGHT: Mix = [['gpt-4o-mini', 6], ['gpt-4.1-mini', 3], ['claude-haiku-4-5', 2]];
const CHAT_HEAVY: Mix = [['gpt-4.1', 4], ['claude-sonnet-4-5', 4], ['gpt-4o', 2], ['o4-mini', 1]];
const EMBED: Mix = [['text-embedding-3-small', 5], ['text-embedding-3-large', 1]];
const EVALS: Mix = [['claude-opus-4-1', 1], ['claude-sonnet-4-5', 3], ['gpt-4.1', 3], ['o3', 2], ['mistralai/mistral-large', 1], ['meta-llama/llama-3.3-70b-instruct', 2]];
const CODE: Mix = [['qwen2.5-coder-32b', 5], ['gpt-4.1-mini', 2]];
export const LIGHT = new Set(['gpt-4o-mini', 'gpt-4.1-mini', 'claude-haiku-4-5', 'qwen2.5-coder-32b', 'meta-llama/llama-3.3-70b-instruct']);

export interface KeySpec {
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

export const KEYS: KeySpec[] = [
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
