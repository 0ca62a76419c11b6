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
// with the server's clock moved back (ShiftedClock), so "created" dates and the audit
// trail precede the spend instead of all reading "today". The data is pseudo-random with a fixed
// seed, so screenshots are stable between runs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Clock } from '../../src/clock.ts';
import type { LogRow } from '../../src/usage/log-writer.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { startGateway, type Gateway, type GatewayOptions } from './gateway.ts';
import { PASSWORD } from './browser.ts';
import { KEYS, PEOPLE, SERVICE_ACCOUNTS, TEAMS } from './ui-seed-data.ts';
import { EXTRA_PRICES, HISTORY_DAYS, keyHistory } from './ui-seed-traffic.ts';

const DAY = 86_400_000;

/** Real time moved by `offsetMs`: the seed makes its objects back in time, then sets it to 0 again. */
export class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

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
