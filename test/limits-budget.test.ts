// Hard budgets under real concurrency, member budgets on team keys, seed 003 allocations.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, type Gateway } from './support/gateway.ts';
import { call, denial, startPricedGateway } from './support/priced.ts';
import { BUILTIN_PRICES, costMicro } from '../src/usage/pricing.ts';

for (const dialect of DIALECTS) {
  describe(`budgets (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startPricedGateway({ dialect });
    });
    after(() => gw?.close());

    test('200 concurrent requests (streaming, not, aborted mid-stream) never settle above a hard budget; spend = upstream usage × price', async () => {
      gw.fake.reset();
      gw.fake.options.chunkDelayMs = 2;
      const team = (await gw.api('POST', '/api/teams', { name: 'race' })).body;
      const CAP_USD = 0.01;
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'capped', max_budget_usd: CAP_USD, budget_period: 'monthly' })).body;
      const client = gw.openai(key.key);
      const one = async (i: number): Promise<number> => {
        const body = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: `request number ${i}` }], max_tokens: 20 };
        try {
          if (i % 3 === 1) {
            await client.chat.completions.create(body);
            return 200;
          }
          const ac = new AbortController();
          const stream = await client.chat.completions.create({ ...body, stream: true }, { signal: ac.signal });
          let chunks = 0;
          try {
            for await (const _ of stream) if (++chunks === 3 && i % 3 === 2) ac.abort();
          } catch {
            // aborted by us
          }
          return 200;
        } catch (err) {
          return (err as { status: number }).status;
        }
      };
      const statuses: number[] = [];
      for (let wave = 0; wave < 4; wave++) statuses.push(...(await Promise.all(Array.from({ length: 50 }, (_, i) => one(wave * 50 + i)))));
      gw.fake.options.chunkDelayMs = 0;
      // Aborted streams are still being read server-side for their usage (and hold their reservations):
      // let them settle, then spend whatever is left one request at a time until the budget refuses.
      const settled = async () => {
        for (let i = 0; i < 200 && gw.runtime.deps.inFlight.size > 0; i++) await new Promise((r) => setTimeout(r, 25));
      };
      await settled();
      for (let i = 200, last = 0; last !== 429 && i < 400; i++) {
        statuses.push((last = await one(i)));
        await settled();
      }
      // Aborted streams are drained for their usage: wait until every admitted request is logged.
      const admitted = statuses.filter((s) => s === 200).length;
      let logs: any[] = [];
      for (let i = 0; i < 100; i++) {
        await gw.flush();
        logs = (await gw.api('GET', `/api/teams/${team.id}/logs?limit=1000`)).body.data.filter((l: any) => l.provider);
        if (logs.length === admitted) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(admitted > 20 && admitted < statuses.length, `${admitted} of ${statuses.length} admitted`);
      assert.deepEqual([...new Set(statuses)].sort(), [200, 429]);
      assert.equal(gw.fake.requests.length, admitted, 'refused requests never reached the upstream');
      assert.equal(logs.length, admitted);
      const spend = (await gw.api('GET', `/api/teams/${team.id}/spend`)).body.total;
      const capMicro = CAP_USD * 1e6;
      const spentMicro = Math.round(spend.cost_usd * 1e6);
      assert.ok(spentMicro <= capMicro, `spent ${spentMicro} ≤ cap ${capMicro}`);
      const reservation = costMicro(BUILTIN_PRICES['gpt-4o']!, 40, 20);
      assert.ok(spentMicro > capMicro - reservation, `the budget was used up to less than one reservation (${spentMicro} of ${capMicro})`);
      assert.equal(spend.tokens_in, gw.fake.usageTotals.prompt_tokens);
      assert.equal(spend.tokens_out, gw.fake.usageTotals.completion_tokens);
      assert.equal(logs.filter((l) => l.usage_estimated).length, 0, 'every request metered from the upstream usage');
      const expected = logs.reduce((s, l) => s + costMicro(BUILTIN_PRICES['gpt-4o']!, l.tokens_in, l.tokens_out), 0);
      assert.equal(spentMicro, expected, 'spend is exactly the upstream usage × price');
      const refused = await denial(client, 'gpt-4o');
      assert.equal(refused.error.code, 'budget_exceeded');
      assert.equal(refused.error.level, 'key');
      assert.equal(refused.error.limit, CAP_USD);
      assert.equal(refused.error.type, 'insufficient_quota');
      assert.match(refused.error.reset_at, /^\d{4}-\d\d-01T00:00:00.000Z$/, 'a monthly budget resets on the 1st');
      const explain = (await gw.api('GET', `/api/keys/${key.id}/limits`)).body.layers[0];
      assert.equal(explain.budget.spent_usd, spend.cost_usd, 'the live counter agrees with the rollups');
      assert.equal(explain.budget.reserved_usd, 0, 'every reservation was settled');
    });

    test('a member budget binds a team key owned by that member', async () => {
      const team = (await gw.api('POST', '/api/teams', { name: 'member budget' })).body;
      const u = (await gw.api('POST', '/api/users', { external_id: 'spender@example.com', team_id: team.id })).body;
      assert.equal((await gw.api('PUT', `/api/teams/${team.id}/members/${u.id}/limits`, { max_budget_usd: 13, budget_period: 'monthly' })).status, 200);
      const key = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'no own cap', user_id: u.id })).body.key);
      const other = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'someone else' })).body.key);
      assert.deepEqual([await call(key), await call(key), await call(key)], [200, 200, 429], '$6 + $6, then $6 more would pass $13');
      const refused = await denial(key);
      assert.equal(refused.error.level, 'member');
      assert.equal(refused.error.budget_usd, 13);
      assert.equal(refused.error.spent_usd, 12);
      assert.equal(await call(other), 200, "another owner's key in the team is not bound by this member's budget");
    });

    test('team and org budgets bind every key beneath them; soft budgets never refuse', async () => {
      const team = (await gw.api('POST', '/api/teams', { name: 'team budget', max_budget_usd: 12 })).body;
      const k1 = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'a' })).body.key);
      const k2 = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'b' })).body.key);
      assert.deepEqual([await call(k1), await call(k2), await call(k1), await call(k2)], [200, 200, 429, 429]);
      assert.equal((await denial(k2)).error.level, 'team');
      assert.equal((await gw.api('PATCH', `/api/teams/${team.id}/limits`, { budget_mode: 'soft' })).status, 200);
      assert.equal(await call(k1), 200, 'soft: over the budget, still admitted');
    });

    test('an unpriced model cannot pass a hard budget; it is refused, never counted as $0', async () => {
      const team = (await gw.api('POST', '/api/teams', { name: 'unpriced' })).body;
      const key = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k', max_budget_usd: 100 })).body.key);
      const refused = await denial(key, 'mystery-model');
      assert.equal(refused.error.code, 'budget_exceeded');
      assert.match(refused.error.message, /no known price/);
      assert.equal(await call(key, 'gpt-4o-mini'), 200);
    });

    test('seed 003: $100/month allocation → keys capped $20 and $30 → a $60 key is refused with "$50 remaining" → the $20 key stops at $20', async () => {
      const team = (await gw.api('POST', '/api/teams', { name: 'Budgeting platform' })).body;
      const member = (await gw.api('POST', '/api/users', { external_id: 'member@seed3.example' })).body;
      const set = await gw.api('PUT', `/api/teams/${team.id}/members/${member.id}`, { role: 'member', allocation_usd: 100 });
      assert.equal(set.status, 200);
      assert.equal(set.body.allocation_usd, 100);
      const k20 = await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'openrouter', user_id: member.id, max_budget_usd: 20 });
      const k30 = await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'storage', user_id: member.id, max_budget_usd: 30 });
      assert.equal(k20.status, 201);
      assert.equal(k30.status, 201);
      const k60 = await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'too much', user_id: member.id, max_budget_usd: 60 });
      assert.equal(k60.status, 403);
      assert.equal(k60.body.error.code, 'allocation_exceeded');
      assert.equal(k60.body.error.param, 'max_budget_usd');
      assert.match(k60.body.error.message, /\$50 remaining/);
      assert.equal(k60.body.error.remaining_usd, 50);
      const keys = (await gw.api('GET', `/api/teams/${team.id}/keys`)).body.data;
      assert.equal(keys.length, 2, 'the refused key was not half-created');
      // Raising a cap beyond the allocation is refused the same way; lowering the allocation below the caps too.
      const raise = await gw.api('PATCH', `/api/keys/${k30.body.id}/limits`, { max_budget_usd: 81 });
      assert.equal(raise.status, 403);
      assert.match(raise.body.error.message, /\$80 remaining/);
      const shrink = await gw.api('PUT', `/api/teams/${team.id}/members/${member.id}`, { allocation_usd: 40 });
      assert.equal(shrink.status, 409);
      assert.equal(shrink.body.error.param, 'allocation_usd');
      // A revoked key gives its cap back.
      assert.equal((await gw.api('DELETE', `/api/teams/${team.id}/keys/${k30.body.id}`)).status, 200);
      assert.equal((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'now fits', user_id: member.id, max_budget_usd: 60 })).status, 201);

      const c20 = gw.openai(k20.body.key);
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push(await call(c20));
      assert.deepEqual(statuses, [200, 200, 200, 429, 429], '$6 × 3 = $18; a 4th would pass $20');
      const spend = (await gw.api('GET', `/api/teams/${team.id}/spend`)).body;
      assert.equal(spend.total.cost_usd, 18);
      const members = (await gw.api('GET', `/api/teams/${team.id}/members`)).body.data;
      const m = members.find((x: any) => x.user_id === member.id);
      assert.deepEqual({ allocation: m.allocation_usd, committed: m.committed_usd, unallocated: m.unallocated_usd, spent: m.spent_this_month_usd }, { allocation: 100, committed: 80, unallocated: 20, spent: 18 });

      const tx = (await gw.api('GET', `/api/teams/${team.id}/transactions`)).body.data;
      const trail = tx.map((t: any) => `${t.action}${t.amount_usd == null ? '' : ' $' + t.amount_usd}`).reverse();
      assert.deepEqual(trail, ['member.set', 'allocation.set $100', 'key.create $20', 'key.create $30', 'key.revoke', 'key.create $60']);
    });
  });
}
