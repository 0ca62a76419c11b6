// Rate windows and concurrency at every level, over real HTTP, on both dialects.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, TestClock, type Gateway } from './support/gateway.ts';
import { call, denial, startPricedGateway } from './support/priced.ts';

for (const dialect of DIALECTS) {
  describe(`rate limits (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    const clock = new TestClock(Date.parse('2026-03-28T12:00:00.500Z'));
    before(async () => {
      gw = await startPricedGateway({ dialect, clock });
    });
    after(() => gw?.close());

    test('an RPM limit of N admits exactly N in the window, then says who refused and when to retry', async () => {
      const team = (await gw.api('POST', '/api/teams', { name: 'RPM' })).body;
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k', rpm: 5 })).body;
      assert.equal(key.limits.rpm, 5);
      const client = gw.openai(key.key);
      const remaining = [];
      for (let i = 0; i < 5; i++) {
        const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).withResponse();
        assert.equal(res.response.headers.get('x-ratelimit-limit-requests'), '5');
        remaining.push(Number(res.response.headers.get('x-ratelimit-remaining-requests')));
        clock.advance(1000);
      }
      assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
      const refused = await denial(client, 'gpt-4o-mini');
      assert.equal(refused.status, 429);
      assert.equal(refused.error.code, 'rate_limit_exceeded');
      assert.equal(refused.error.type, 'rate_limit_error');
      assert.equal(refused.error.level, 'key');
      assert.equal(refused.error.limit, 5);
      assert.equal(refused.error.window, 'rpm');
      // The first request's bucket (12:00:00) leaves the 60 s window at 12:01:00; it is now 12:00:05.5.
      assert.equal(refused.error.reset_at, '2026-03-28T12:01:00.000Z');
      assert.equal(refused.headers.get('retry-after'), '55');
      assert.equal(refused.headers.get('x-ratelimit-remaining-requests'), '0');
      clock.advance(54_000);
      assert.equal(await call(client, 'gpt-4o-mini'), 429, 'still inside the window at 12:00:59.5');
      clock.advance(1000);
      assert.equal(await call(client, 'gpt-4o-mini'), 200, 'the first request left the window');
      assert.equal(await call(client, 'gpt-4o-mini'), 429, 'and only one slot opened');
      clock.advance(120_000);
    });

    test('seed 001: a team TPD binds all of its members\' keys together, and tpm_limit/daily_token_limit create them', async () => {
      const team = (await gw.api('POST', '/api/teams', { name: 'engineering', tpm_limit: 200000, daily_token_limit: 100 })).body;
      assert.equal(team.tpm_limit, 200000);
      assert.equal(team.daily_token_limit, 100);
      const alice = (await gw.api('POST', '/api/users', { external_id: 'alice@tpd.example', team_id: team.id })).body;
      const bob = (await gw.api('POST', '/api/users', { external_id: 'bob@tpd.example', team_id: team.id })).body;
      const a = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'a', user_id: alice.id })).body.key);
      const b = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'b', user_id: bob.id })).body.key);
      // Each request reserves its bound, 2 bytes of text + 4 per message + 3 priming + max_tokens 10 = 19,
      // and uses 4 prompt + 10 output = 14 (the fake's count). After six (84 used) the next 19 would pass 100.
      const statuses = [];
      for (let i = 0; i < 12; i++) statuses.push(await call(i % 2 ? b : a, 'gpt-4o-mini', { max_tokens: 10 }));
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
      await gw.flush();
      const spend = (await gw.api('GET', `/api/teams/${team.id}/spend`)).body.today;
      assert.ok(spend.tokens_in + spend.tokens_out <= 100, `the team used ${spend.tokens_in + spend.tokens_out} ≤ 100 tokens today`);
      const refusedA = await denial(a, 'gpt-4o-mini');
      const refusedB = await denial(b, 'gpt-4o-mini');
      assert.equal(refusedA.error.level, 'team');
      assert.equal(refusedB.error.level, 'team');
      assert.equal(refusedA.error.window, 'tpd');
      clock.advance(86_400_000);
      assert.equal(await call(a, 'gpt-4o-mini', { max_tokens: 10 }), 200, 'a day later the window has moved on');
    });

    test('seed 001: per-user limits — one member exhausting their own RPM does not block the rest of the team', async () => {
      const team = (await gw.api('POST', '/api/teams', { name: 'fair share' })).body;
      const u1 = (await gw.api('POST', '/api/users', { external_id: 'u1@fair.example', team_id: team.id })).body;
      const u2 = (await gw.api('POST', '/api/users', { external_id: 'u2@fair.example', team_id: team.id })).body;
      assert.equal((await gw.api('PUT', `/api/teams/${team.id}/members/${u1.id}/limits`, { rpm: 2 })).status, 200);
      const k1 = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k1', user_id: u1.id })).body.key);
      const k1b = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k1b', user_id: u1.id })).body.key);
      const k2 = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k2', user_id: u2.id })).body.key);
      assert.equal(await call(k1, 'gpt-4o-mini'), 200);
      assert.equal(await call(k1b, 'gpt-4o-mini'), 200);
      const refused = await denial(k1, 'gpt-4o-mini');
      assert.equal(refused.error.level, 'member', 'the member limit spans all of the member\'s keys');
      assert.equal(await call(k2, 'gpt-4o-mini'), 200, 'another member is unaffected');
      clock.advance(120_000);
    });

    test('a refusal at one level charges no other level (all-or-nothing)', async () => {
      const team = (await gw.api('POST', '/api/teams', { name: 'atomic', rpm: 100 })).body;
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k', rpm: 1 })).body;
      const client = gw.openai(key.key);
      assert.equal(await call(client, 'gpt-4o-mini'), 200);
      for (let i = 0; i < 5; i++) assert.equal(await call(client, 'gpt-4o-mini'), 429);
      const explain = (await gw.api('GET', `/api/keys/${key.id}/limits`)).body;
      const teamLayer = explain.layers.find((l: any) => l.level === 'team');
      assert.equal(teamLayer.windows.rpm.used, 1, 'the five refused requests did not count against the team');
      clock.advance(120_000);
    });

    test('max_parallel_requests bounds requests in flight', async () => {
      gw.fake.options.latencyMs = 150;
      try {
        const team = (await gw.api('POST', '/api/teams', { name: 'parallel' })).body;
        const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k', max_parallel_requests: 2 })).body;
        const client = gw.openai(key.key);
        const statuses = await Promise.all([1, 2, 3, 4].map(() => call(client, 'gpt-4o-mini')));
        assert.deepEqual(statuses.sort(), [200, 200, 429, 429]);
        const refused = await Promise.all([call(client, 'gpt-4o-mini'), call(client, 'gpt-4o-mini'), denial(client, 'gpt-4o-mini')]);
        assert.equal(refused[2].error.code, 'concurrency_limit_exceeded');
        assert.equal(await call(client, 'gpt-4o-mini'), 200, 'slots are released when requests finish');
      } finally {
        gw.fake.options.latencyMs = 0;
      }
    });

    test('seed 002: changing a limit takes effect on the very next request (cached policy is invalidated)', async () => {
      const team = (await gw.api('POST', '/api/teams', { name: 'live change' })).body;
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k', rpm: 100 })).body;
      const client = gw.openai(key.key);
      assert.equal(await call(client, 'gpt-4o-mini'), 200);
      assert.equal((await gw.api('PATCH', `/api/keys/${key.id}/limits`, { rpm: 1 })).status, 200);
      assert.equal(await call(client, 'gpt-4o-mini'), 429, 'rpm 1 already used by the first request');
      assert.equal((await gw.api('DELETE', `/api/keys/${key.id}/limits`)).status, 200);
      assert.equal(await call(client, 'gpt-4o-mini'), 200, 'cleared');
      assert.equal((await gw.api('PUT', `/api/teams/${team.id}/limits`, { rpm: 1 })).status, 200);
      assert.equal(await call(client, 'gpt-4o-mini'), 200);
      assert.equal(await call(client, 'gpt-4o-mini'), 429, 'a team limit set now binds the warm key');
      clock.advance(120_000);
    });

    test('limits are validated with the field named', async () => {
      const team = (await gw.api('POST', '/api/teams', { name: 'validation' })).body;
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body;
      const cases: Array<[unknown, string]> = [
        [{ rpm: -1 }, 'rpm'],
        [{ rpm: 1.5 }, 'rpm'],
        [{ tpm: 'many' }, 'tpm'],
        [{ max_budget_usd: -5 }, 'max_budget_usd'],
        [{ budget_period: 'yearly' }, 'budget_period'],
        [{ budget_mode: 'sometimes' }, 'budget_mode'],
        [{ alert_thresholds: [0] }, 'alert_thresholds.0'],
        [{ burst: 3 }, 'burst'],
      ];
      for (const [body, field] of cases) {
        const res = await gw.api('PUT', `/api/keys/${key.id}/limits`, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.param, field, `${JSON.stringify(body)}: ${res.body.error.message}`);
      }
      const inline = await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'bad', rpm: 0 });
      assert.equal(inline.status, 400);
      assert.equal(inline.body.error.param, 'rpm');
    });
  });
}
