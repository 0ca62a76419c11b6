// GET /api/teams as the dashboard's list reads it, both dialects: the search (q: a part of the
// name or slug, any case, LIKE's wildcards taken literally) and each team's figures — members,
// active keys, spend this month, and the budget with what was spent in its period.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';

for (const dialect of DIALECTS) {
  describe(`teams list (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ dialect });
    });
    after(() => gw?.close());

    test('q finds a part of the name or slug, in any case; % and _ are literal', async () => {
      for (const [name, slug] of [['Search Ranking', 'ranking'], ['Payments', 'pay-ops'], ['100% Uptime', 'sre'], ['Data_Lake', 'lake']]) {
        assert.equal((await gw.api('POST', '/api/teams', { name, slug })).status, 201);
      }
      const names = async (q: string) => ((await gw.api('GET', `/api/teams?q=${encodeURIComponent(q)}`)).body.data as Array<{ name: string }>).map((t) => t.name);
      assert.deepEqual(await names('RANK'), ['Search Ranking']);
      assert.deepEqual(await names('pay-'), ['Payments'], 'the slug is searched too');
      assert.deepEqual(await names('%'), ['100% Uptime'], '% matches itself only');
      assert.deepEqual(await names('a_l'), ['Data_Lake'], '_ matches itself only');
      assert.deepEqual(await names('nothing-like-it'), []);
      const empty = await gw.api('GET', '/api/teams?q=');
      assert.equal(empty.status, 400);
      assert.equal(empty.body.error.param, 'query.q');
    });

    test('a page of 1,000 teams reads their budgets (SQLite refused one OR term per team)', async () => {
      const created: number[] = [];
      for (let i = 0; i < 1010; i += 25) {
        const batch = await Promise.all(Array.from({ length: 25 }, (_, j) => gw.api('POST', '/api/teams', { name: `bulk-${i + j}`, ...((i + j) % 100 === 7 ? { max_budget_usd: 9, budget_period: 'monthly' } : {}) })));
        for (const r of batch) created.push(r.body.id);
      }
      const page = await gw.api('GET', '/api/teams?q=bulk-&limit=1000');
      assert.equal(page.status, 200, JSON.stringify(page.body).slice(0, 300));
      const rows = page.body.data as Array<{ name: string; budget: { limit_usd: number } | null }>;
      assert.equal(rows.length, 1000);
      const budgeted = rows.filter((t) => t.budget !== null).map((t) => t.name).sort();
      assert.deepEqual(budgeted, rows.map((t) => t.name).filter((n) => Number(n.slice(5)) % 100 === 7).sort(), 'exactly the teams with a budget show one');
      assert.ok(budgeted.length >= 9);
      for (const id of created) await gw.api('DELETE', `/api/teams/${id}`);
    });

    test("each team's members, active keys, spend this month and budget with its period's spend", async () => {
      const team = await gw.api('POST', '/api/teams', { name: 'Figures', max_budget_usd: 40, budget_period: 'monthly' });
      const bare = await gw.api('POST', '/api/teams', { name: 'Bare' });
      for (const email of ['a@example.com', 'b@example.com']) {
        const u = await gw.api('POST', '/api/users', { external_id: email, email, team_id: team.body.id });
        assert.equal(u.status, 201);
      }
      const key = await gw.api('POST', '/api/keys', { name: 'k1', team_id: team.body.id });
      const revoked = await gw.api('POST', '/api/keys', { name: 'k2', team_id: team.body.id });
      assert.equal((await gw.api('DELETE', `/api/keys/${revoked.body.id}`)).status, 200);
      await gw.openai(key.body.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

      const list = await gw.api('GET', '/api/teams?q=i');
      assert.equal(list.status, 200);
      const figures = list.body.data.find((t: { id: number }) => t.id === team.body.id);
      assert.equal(figures.members, 2);
      assert.equal(figures.active_keys, 1, 'revoked keys are not counted');
      assert.ok(figures.spent_this_month_usd > 0, 'the request is in this month');
      assert.deepEqual({ ...figures.budget, spent_usd: undefined }, { limit_usd: 40, period: 'monthly', mode: 'hard', spent_usd: undefined });
      assert.equal(figures.budget.spent_usd, figures.spent_this_month_usd, "a monthly budget's period is this month");
      // a budget over all time: its period starts at the beginning (another grouped query)
      const forever = await gw.api('POST', '/api/teams', { name: 'Forever', max_budget_usd: 5, budget_period: 'total' });
      const fkey = await gw.api('POST', '/api/keys', { name: 'f1', team_id: forever.body.id });
      await gw.openai(fkey.body.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      const f = (await gw.api('GET', '/api/teams?q=forever')).body.data[0];
      assert.equal(f.budget.period, 'total');
      assert.ok(f.budget.spent_usd > 0 && f.budget.spent_usd === f.spent_this_month_usd, JSON.stringify(f));
      const plain = (await gw.api('GET', '/api/teams?q=bare')).body.data[0];
      assert.equal(plain.id, bare.body.id);
      assert.deepEqual([plain.members, plain.active_keys, plain.spent_this_month_usd, plain.budget], [0, 0, 0, null]);
    });
  });
}
