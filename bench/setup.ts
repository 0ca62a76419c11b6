// The tenant every benchmark request runs as, built through the public admin API: a team, a member
// of it, and a key the member owns, then the realistic policy (team RPM/TPM limits, a member
// allocation, a hard key budget; IP allowlist and model restriction). Policy endpoints that do not
// exist yet are reported and skipped, so the benchmark grows with the policy as it is built.
import { randomBytes } from 'node:crypto';

export interface TenantIds {
  teamId: number;
  userId: number;
  keyId: number;
  /** the key's secret, shown once at creation */
  secret: string;
}

export interface PolicyStep {
  what: string;
  method: string;
  path: string;
  status: number;
  /** applied, not available yet (404/405), or rejected (the endpoint exists but refused the shape) */
  outcome: 'applied' | 'not available' | 'rejected';
  detail?: string;
}

async function call(baseUrl: string, adminKey: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(baseUrl + path, {
    method,
    headers: { 'x-admin-key': adminKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

async function must(baseUrl: string, adminKey: string, method: string, path: string, body: unknown): Promise<any> {
  const r = await call(baseUrl, adminKey, method, path, body);
  if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status}: ${r.text.slice(0, 500)}`);
  return r.json;
}

export async function setupTenant(baseUrl: string, adminKey: string): Promise<TenantIds> {
  const tag = randomBytes(3).toString('hex');
  const team = await must(baseUrl, adminKey, 'POST', '/api/teams', { name: `bench-${tag}` });
  const user = await must(baseUrl, adminKey, 'POST', '/api/users', { external_id: `bench-${tag}@example.com`, team_id: team.id });
  const key = await must(baseUrl, adminKey, 'POST', `/api/teams/${team.id}/keys`, { name: `bench-key-${tag}`, user_id: user.id });
  return { teamId: team.id, userId: user.id, keyId: key.id, secret: key.key };
}

// Limits far above what a benchmark run reaches (so nothing is denied) but enforced on every
// request: the engine does the same work as for a tight limit. Field names: src/policy/policy-input.ts.
export const REALISTIC_POLICY = {
  team: { rpm: 10_000_000, tpm: 10_000_000_000, rpd: 1_000_000_000, max_budget_usd: 50_000, budget_period: 'monthly', budget_mode: 'hard', alert_thresholds: [0.8, 1] },
  member: { max_budget_usd: 20_000, budget_period: 'monthly', budget_mode: 'hard' },
  key: { rpm: 5_000_000, tpm: 5_000_000_000, max_parallel_requests: 1_000, max_budget_usd: 10_000, budget_period: 'monthly', budget_mode: 'hard' },
};

/**
 * Applies the realistic policy to the tenant through whichever admin endpoints exist. Each step is
 * tried in turn; a 404/405 means "not built yet" and is reported, never fatal. The member's
 * allocation goes before the key's cap, which must fit in it.
 */
export async function applyRealisticPolicy(baseUrl: string, adminKey: string, ids: TenantIds, models = ['gpt-4o-mini', 'gpt-4o']): Promise<PolicyStep[]> {
  const p = REALISTIC_POLICY;
  const steps: Array<{ what: string; method: string; path: string; body: unknown }> = [
    { what: 'team RPM/RPD/TPM limits + hard monthly team budget', method: 'PUT', path: `/api/teams/${ids.teamId}/limits`, body: p.team },
    { what: 'member monthly allocation', method: 'PUT', path: `/api/teams/${ids.teamId}/members/${ids.userId}/limits`, body: p.member },
    { what: 'key limits + hard key budget', method: 'PUT', path: `/api/keys/${ids.keyId}/limits`, body: p.key },
    { what: 'key IP allowlist (loopback)', method: 'PATCH', path: `/api/keys/${ids.keyId}`, body: { ip_allowlist: ['127.0.0.0/8', '::1/128'] } },
    { what: 'key model restriction', method: 'PATCH', path: `/api/keys/${ids.keyId}`, body: { models } },
  ];
  const out: PolicyStep[] = [];
  for (const s of steps) {
    const r = await call(baseUrl, adminKey, s.method, s.path, s.body);
    const outcome: PolicyStep['outcome'] = r.status < 300 ? 'applied' : r.status === 404 || r.status === 405 ? 'not available' : 'rejected';
    const step: PolicyStep = { what: s.what, method: s.method, path: s.path, status: r.status, outcome };
    if (outcome !== 'applied') step.detail = (r.json?.error?.message ?? r.text).toString().slice(0, 200);
    out.push(step);
  }
  return out;
}

export function describePolicy(steps: PolicyStep[]): string {
  return steps
    .map((s) => `  ${s.outcome === 'applied' ? '✓' : s.outcome === 'not available' ? '·' : '✗'} ${s.what}: ${s.outcome === 'applied' ? 'applied' : s.outcome === 'not available' ? `policy endpoint not available yet (${s.method} ${s.path} → ${s.status})` : `rejected (${s.status}: ${s.detail})`}`)
    .join('\n');
}
