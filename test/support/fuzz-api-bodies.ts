// Valid-ish request bodies for /api routes, read off the zod schemas in src/**/*.routes.ts: each
// field with a generator of values the schema accepts (so mutations start from a body that gets
// deep into the handler), and per route the fields it takes. A route not listed here gets random
// subsets of every known field: a new route is fuzzed from the day it exists.
import fc from 'fast-check';
import { IdRef, storageHostileString, type IdKind } from './fuzz-values.ts';
import type { Route } from './fuzz-http.ts';
import { PROVIDER_SECRET_PREFIX } from './fuzz-gateway.ts';

const count = fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 1_000_000 }));
const usd = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 1_000 }), fc.double({ min: 0, max: 1_000, noNaN: true }));
// Mostly printable text; now and then a string the database itself may refuse (NUL, lone
// surrogates), in an otherwise valid body so that it reaches the INSERT.
const text = (max: number) => fc.oneof({ weight: 19, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: max }) }, { weight: 1, arbitrary: storageHostileString });
const alnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789');
/** An existing object's id, or now and then one past what an integer column holds. */
const ref = (kind: IdKind) => fc.oneof({ weight: 19, arbitrary: fc.nat(20).map((i) => new IdRef(kind, i)) }, { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 2 ** 32, 2 ** 53 - 1) });

export const FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  name: fc.oneof(fc.constantFrom('Platform', 'ML Research', 'ci-bot', 'Ünïcødé team 😀'), text(40)),
  slug: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
  description: fc.option(text(100)),
  tags: fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 5 }),
  scopes: fc.constantFrom('*', 'chat', 'embeddings'),
  user_id: ref('user'),
  service_account_id: ref('service_account'),
  team_id: ref('team'),
  expires_at: fc.oneof(
    fc.constant(null),
    fc.constantFrom('2031-01-01T00:00:00Z', '2030-06-30T12:00:00+02:00', '9999-12-31T23:59:59-00:01', '2020-01-01T00:00:00Z'),
    fc.date({ min: new Date('2000-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  ),
  rpm: count, rph: count, rpd: count, tpm: count, tpd: count, max_parallel_requests: count,
  max_budget_usd: usd,
  budget_period: fc.constantFrom('total', 'daily', 'weekly', 'monthly'),
  budget_mode: fc.constantFrom('hard', 'soft'),
  alert_thresholds: fc.array(fc.double({ min: 0.01, max: 10, noNaN: true }), { maxLength: 4 }),
  tpm_limit: count,
  daily_token_limit: count,
  external_id: fc.oneof(fc.emailAddress(), text(40)),
  email: fc.option(fc.emailAddress()),
  role: fc.constantFrom('admin', 'member', 'owner'),
  team_role: fc.constantFrom('owner', 'member'),
  status: fc.constantFrom('active', 'disabled'),
  provider: fc.constantFrom('openai', 'openai-compatible', 'anthropic', 'openrouter'),
  base_url: fc.constantFrom('http://127.0.0.1:9/v1', 'https://api.openai.com/v1', 'http://169.254.169.254/latest', 'http://[::1]:8080', 'https://example.com/v1?x=1', 'http://localhost/'),
  api_key: fc.string({ unit: alnum, minLength: 8, maxLength: 16 }).map((s) => PROVIDER_SECRET_PREFIX + s),
  models: fc.array(fc.constantFrom('gpt-4o', 'gpt-4o-mini', '*', 'claude-3', 'm'), { minLength: 1, maxLength: 3 }),
  allocation_usd: usd,
  access_groups: fc.option(fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 3 })),
  blocked_models: fc.array(fc.constantFrom('o1-pro', 'gpt-4o*', 'claude-*', '*', 'a*b'), { maxLength: 3 }),
  ip_allowlist: fc.array(fc.constantFrom('127.0.0.0/8', '::1', '10.0.0.0/33', '2001:db8::/32', '0.0.0.0/0', 'not-an-ip', '::ffff:10.0.0.0/104'), { maxLength: 3 }),
  grace_period_seconds: fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(2_592_000, 2_592_001, -1)),
  rotate_every_days: fc.integer({ min: 0, max: 400 }),
};

const LIMITS = ['rpm', 'rph', 'rpd', 'tpm', 'tpd', 'max_parallel_requests', 'max_budget_usd', 'budget_period', 'budget_mode', 'alert_thresholds'];
const ACCESS = ['models', 'access_groups', 'blocked_models', 'ip_allowlist'];
const KEY_CREATE = ['name', 'description', 'tags', 'scopes', 'user_id', 'service_account_id', 'expires_at', ...ACCESS, ...LIMITS];

/** [method and url pattern, fields, required fields] */
const BODIES: Array<[RegExp, string[], string[]]> = [
  [/^(PUT|PATCH) .*\/limits$/, LIMITS, []],
  [/^POST \/api\/teams$/, ['name', 'slug', 'description', 'tpm_limit', 'daily_token_limit', ...ACCESS, ...LIMITS], ['name']],
  [/^(PUT|PATCH) \/api\/teams\/:id$/, ['name', 'slug', 'description', ...ACCESS], []],
  [/^POST \/api\/teams\/:id\/keys$/, KEY_CREATE, ['name']],
  [/^POST \/api\/keys$/, [...KEY_CREATE, 'team_id'], ['name']],
  [/^PATCH .*\/keys\/:\w+$/, ['name', 'description', 'tags', 'status', 'expires_at', 'scopes', ...ACCESS], []],
  [/^(PUT|PATCH) \/api\/orgs\/current\/access$/, ACCESS, []],
  [/^POST \/api\/access-groups$/, ['name', 'description', 'models'], ['name', 'models']],
  [/^PATCH \/api\/access-groups\/:\w+$/, ['name', 'description', 'models'], []],
  [/^PUT .*\/rotation-schedule$/, ['rotate_every_days', 'grace_period_seconds'], ['rotate_every_days']],
  [/^POST \/api\/users$/, ['external_id', 'name', 'email', 'role', 'team_id', 'team_role'], ['external_id']],
  [/^POST \/api\/providers$/, ['name', 'provider', 'base_url', 'api_key', 'models'], ['name', 'provider', 'base_url', 'api_key']],
  [/^PUT .*\/members\/:\w+$/, ['role', 'allocation_usd'], []],
  [/^POST .*\/service-accounts$/, ['name', 'description'], ['name']],
  [/^POST \/api\/orgs$/, ['name', 'slug'], ['name']],
  [/^POST .*\/admin-keys$/, ['name'], ['name']],
  [/\/rotate$/, ['grace_period_seconds'], []],
  [/^(GET|DELETE) /, [], []],
];

export function apiBody(route: Route): { valid: fc.Arbitrary<Record<string, unknown>>; fields: string[] } {
  const found = BODIES.find(([re]) => re.test(`${route.method} ${route.url}`));
  const [fields, required] = found ? [found[1], found[2]] : [Object.keys(FIELDS), []];
  const model = Object.fromEntries(fields.map((f) => [f, FIELDS[f]!]));
  return { valid: fc.record(model, { requiredKeys: required }) as fc.Arbitrary<Record<string, unknown>>, fields: fields.length ? fields : Object.keys(FIELDS) };
}
