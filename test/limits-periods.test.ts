// Budget periods (calendar-aligned, UTC), alerts once per threshold per period, and explain.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DIALECTS, dialectSkip, TestClock, type Gateway } from './support/gateway.ts';
import { call, denial, startPricedGateway } from './support/priced.ts';
import { signature } from '../src/policy/alerts.ts';
import { periodOf } from '../src/policy/policy.ts';

test('periods are calendar-aligned in UTC; weeks start on Monday', () => {
  const t = Date.parse('2026-03-28T23:59:59.999Z'); // a Saturday
  assert.deepEqual(periodOf('daily', t), { key: 'd2026-03-28', start: Date.parse('2026-03-28T00:00:00Z'), end: Date.parse('2026-03-29T00:00:00Z') });
  assert.equal(periodOf('weekly', t).key, 'w2026-03-23');
  assert.equal(periodOf('weekly', Date.parse('2026-03-23T00:00:00Z')).key, 'w2026-03-23');
  assert.equal(periodOf('weekly', Date.parse('2026-03-22T23:59:59Z')).key, 'w2026-03-16');
  assert.deepEqual(periodOf('monthly', Date.parse('2026-12-31T23:00:00Z')), { key: 'm2026-12', start: Date.parse('2026-12-01T00:00:00Z'), end: Date.parse('2027-01-01T00:00:00Z') });
  assert.deepEqual(periodOf('total', t), { key: 'total', start: 0, end: null });
});

interface Received { headers: Record<string, string | string[] | undefined>; body: string }

for (const dialect of DIALECTS) {
  describe(`budget periods and alerts (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    let hook: Server;
    const received: Received[] = [];
    const clock = new TestClock(Date.parse('2026-03-31T23:00:00Z'));
    before(async () => {
      hook = createServer((req, res) => {
        let body = '';
        req.on('data', (d) => (body += d));
        req.on('end', () => {
          received.push({ headers: req.headers, body });
          res.end('ok');
        });
      });
      await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
      gw = await startPricedGateway({ dialect, clock, env: { TOLLGATE_ALERT_WEBHOOK_URL: url, TOLLGATE_ALERT_WEBHOOK_SECRET: 'whsec-test' } });
    });
    after(async () => {
      await gw?.close();
      hook?.close();
    });

    test('a monthly budget refuses at the cap, resets on the 1st, and the reset never loses new spend', async () => {
      const team = (await gw.api('POST', '/api/teams', { name: 'monthly' })).body;
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k', max_budget_usd: 12, budget_period: 'monthly' })).body;
      const client = gw.openai(key.key);
      assert.deepEqual([await call(client), await call(client), await call(client)], [200, 200, 429]);
      clock.set('2026-04-01T00:00:01Z');
      assert.equal(await call(client), 200, 'April has its own budget');
      const april = (await gw.api('GET', `/api/keys/${key.id}/limits`)).body.layers[0].budget;
      assert.equal(april.period_key, 'm2026-04');
      assert.equal(april.spent_usd, 6, 'the April request counts in April');
      assert.equal(april.resets_at, '2026-05-01T00:00:00.000Z');
      const spend = (await gw.api('GET', `/api/teams/${team.id}/spend`)).body;
      assert.equal(spend.total.cost_usd, 18, 'March spend is still in the totals');
      assert.equal(spend.this_month.cost_usd, 6);
      // A restart (here: counters dropped) rebuilds the April counter from the rollups.
      const rebuilt = await gw.runtime.deps.loadSpent(`key:${key.id}`, Date.parse('2026-04-01T00:00:00Z'), Date.parse('2026-05-01T00:00:00Z'));
      assert.equal(rebuilt, 6_000_000);
    });

    test('a rotated key keeps its budget and spend (a rotation keeps the key)', async () => {
      const team = (await gw.api('POST', '/api/teams', { name: 'rotating budget' })).body;
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k', max_budget_usd: 12, budget_period: 'total' })).body;
      assert.equal(await call(gw.openai(key.key)), 200);
      const rotated = (await gw.api('POST', `/api/teams/${team.id}/keys/${key.id}/rotate`)).body;
      const c = gw.openai(rotated.key);
      assert.deepEqual([await call(c), await call(c)], [200, 429], 'the $6 spent before rotation still counts');
      const limits = (await gw.api('GET', `/api/keys/${rotated.id}/limits`)).body.layers[0];
      assert.equal(limits.policy.max_budget_usd, 12);
      assert.equal(limits.budget.spent_usd, 12);
    });

    test('alerts fire once per threshold per period, signed, into the audit log; re-armed after the reset', async () => {
      received.length = 0;
      clock.set('2026-04-10T12:00:00Z');
      const team = (await gw.api('POST', '/api/teams', { name: 'alerting', max_budget_usd: 10, budget_mode: 'soft', alert_thresholds: [0.5, 1] })).body;
      const client = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body.key);
      for (let i = 0; i < 4; i++) assert.equal(await call(client), 200, 'a soft budget alerts but never refuses');
      await gw.runtime.deps.alerts.drain();
      const events = received.map((r) => JSON.parse(r.body));
      assert.deepEqual(events.map((e) => [e.threshold, e.spent_usd, e.period, e.level]), [[0.5, 6, 'm2026-04', 'team'], [1, 12, 'm2026-04', 'team']]);
      for (const r of received) {
        const [t, v1] = String(r.headers['x-tollgate-signature']).split(',').map((p) => p.split('=')[1]!);
        assert.equal(v1, signature('whsec-test', Number(t), r.body), 'HMAC-SHA256 over "<t>.<body>"');
        assert.equal(r.headers['x-tollgate-event'], 'budget.threshold');
      }
      const audit = await gw.runtime.deps.db.kysely.selectFrom('audit_events').selectAll().where('action', '=', 'budget.alert').where('team_id', '=', team.id).execute();
      assert.equal(audit.length, 2);
      clock.set('2026-05-01T00:00:00Z');
      assert.equal(await call(client), 200);
      await gw.runtime.deps.alerts.drain();
      assert.equal(received.length, 3, 'the 50% alert re-armed in May');
      assert.equal(JSON.parse(received[2]!.body).period, 'm2026-05');
    });

    test('GET /v1/key and GET /api/keys/{id}/limits show every layer, its usage, what is left and when it resets', async () => {
      clock.set('2026-05-02T08:00:00Z');
      const team = (await gw.api('POST', '/api/teams', { name: 'explained', rpm: 100, max_budget_usd: 50 })).body;
      const u = (await gw.api('POST', '/api/users', { external_id: 'explained@example.com', team_id: team.id })).body;
      await gw.api('PUT', `/api/teams/${team.id}/members/${u.id}`, { allocation_usd: 30 });
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k', user_id: u.id, rpm: 10, tpd: 10_000, max_budget_usd: 20 })).body;
      const client = gw.openai(key.key);
      assert.equal(await call(client), 200);
      const res = await fetch(gw.url + '/v1/key', { headers: { authorization: `Bearer ${key.key}` } });
      assert.equal(res.status, 200);
      const self = ((await res.json()) as any).data;
      assert.deepEqual(self.layers.map((l: any) => l.level), ['key', 'member', 'team', 'org']);
      const [k, m, t] = self.layers;
      assert.deepEqual(k.windows.rpm, { limit: 10, used: 1, remaining: 9, resets_in_seconds: 60, reset_at: '2026-05-02T08:01:00.000Z' });
      assert.equal(k.windows.tpd.limit, 10_000);
      assert.ok(k.windows.tpd.used > 0);
      assert.deepEqual({ limit: k.budget.limit_usd, spent: k.budget.spent_usd, remaining: k.budget.remaining_usd, resets: k.budget.resets_at }, { limit: 20, spent: 6, remaining: 14, resets: '2026-06-01T00:00:00.000Z' });
      assert.equal(m.budget.limit_usd, 30);
      assert.equal(m.budget.spent_usd, 6);
      assert.equal(t.windows.rpm.used, 1);
      assert.equal(t.budget.remaining_usd, 44);
      const admin = (await gw.api('GET', `/api/keys/${key.id}/limits`)).body;
      assert.deepEqual(admin.layers.map((l: any) => l.scope), [`key:${key.id}`, `member:${team.id}:${u.id}`, `team:${team.id}`, 'org:1']);
      const teamView = (await gw.api('GET', `/api/teams/${team.id}/limits`)).body;
      assert.equal(teamView.policy.rpm, 100);
      assert.equal(teamView.windows.rpm.used, 1);
      const bad = await fetch(gw.url + '/v1/key', { headers: { authorization: 'Bearer nope' } });
      assert.equal(bad.status, 401);
    });

    test('org-level limits bind every key in the organization', async () => {
      assert.equal((await gw.api('PUT', '/api/orgs/current/limits', { rpd: 1_000_000, max_budget_usd: 10_000 })).status, 200);
      const org = (await gw.api('GET', '/api/orgs/current/limits')).body;
      assert.equal(org.policy.rpd, 1_000_000);
      assert.ok(org.windows.rpd.used >= 0);
      const personal = gw.openai((await gw.api('POST', '/api/keys', { name: 'personal', user_id: 1 })).body.key);
      assert.equal(await call(personal), 200);
      assert.equal((await gw.api('PATCH', '/api/orgs/current/limits', { rpd: 1 })).status, 200);
      const refused = await denial(personal);
      assert.equal(refused.error.level, 'org');
      assert.equal((await gw.api('DELETE', '/api/orgs/current/limits')).status, 200);
    });
  });
}
