// Rotation without downtime: a rotated key keeps its id, limits and spend; both secrets work during
// the grace period and the old one stops at its end (warm or cold); a retried rotate with the same
// Idempotency-Key rotates once; an admin can end a grace period early; each secret has its own
// last_used_at; revoking the key ends every secret; a client rotating its secret while it keeps
// sending requests sees no failure.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_KEY, DIALECTS, dialectSkip, startGateway, TestClock, type Gateway } from './support/gateway.ts';
import { call, denial, startPricedGateway } from './support/priced.ts';

const HOUR = 3_600_000;

for (const dialect of DIALECTS) {
  describe(`key rotation with a grace period (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    const clock = new TestClock(Date.parse('2026-03-28T12:00:00Z'));
    before(async () => {
      gw = await startPricedGateway({ dialect, clock, env: { TOLLGATE_ROTATION_CHECK_SECONDS: '0' } });
    });
    after(() => gw?.close());

    const newKey = async (body: Record<string, unknown> = {}) => {
      const team = (await gw.api('POST', '/api/teams', { name: `t-${Math.random()}` })).body;
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'svc', ...body })).body;
      return { team, key, secret: key.key as string };
    };
    const rotate = (id: number, body?: unknown, headers: Record<string, string> = {}) =>
      fetch(`${gw.url}/api/keys/${id}/rotate`, {
        method: 'POST',
        headers: { 'x-admin-key': ADMIN_KEY, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }).then(async (r) => ({ status: r.status, headers: r.headers, body: (await r.json()) as any }));
    const secrets = async (id: number) => (await gw.api('GET', `/api/keys/${id}/secrets`)).body;

    test('both secrets work during the grace period; id, limits and spend carry over; the old one stops at its end', async () => {
      const { key, secret } = await newKey({ max_budget_usd: 100, budget_period: 'total', rpm: 1000 });
      assert.equal(await call(gw.openai(secret)), 200, 'warm: the old secret is cached before the rotation');
      const r = await rotate(key.id, { grace_period_seconds: 3600 });
      assert.equal(r.status, 201);
      assert.equal(r.body.id, key.id, 'same key');
      assert.match(r.body.key, /^sk-tg-/);
      assert.notEqual(r.body.key, secret);
      assert.notEqual(r.body.key_prefix, key.key_prefix);
      assert.equal(r.body.status, 'active');
      assert.deepEqual(r.body.previous_secret, { id: r.body.previous_secret.id, key_prefix: key.key_prefix, valid_until: '2026-03-28T13:00:00.000Z' });
      assert.equal(r.body.rotated_at, '2026-03-28T12:00:00.000Z');

      assert.equal(await call(gw.openai(secret)), 200, 'old secret, in its grace period');
      assert.equal(await call(gw.openai(r.body.key)), 200, 'new secret');
      const layer = (await gw.api('GET', `/api/keys/${key.id}/limits`)).body.layers[0];
      assert.equal(layer.policy.max_budget_usd, 100, 'the key keeps its limits');
      assert.equal(layer.policy.rpm, 1000);
      assert.equal(layer.budget.spent_usd, 18, 'and its spend: $6 before the rotation, $6 with each secret after');
      await gw.flush();
      const logs = (await gw.api('GET', `/api/teams/${key.team_id}/logs`)).body.data;
      assert.deepEqual(logs.map((l: any) => l.key_id), [key.id, key.id, key.id], 'every request is logged against the one key');

      clock.advance(HOUR - 1);
      assert.equal(await call(gw.openai(secret)), 200, 'a millisecond before the end');
      clock.advance(1);
      const refused = await denial(gw.openai(secret));
      assert.equal(refused.status, 401, 'the end of the grace period: refused, though its context is cached');
      assert.equal(refused.error.code, 'invalid_api_key');
      assert.equal(await call(gw.openai(r.body.key)), 200);
      const listed = await secrets(key.id);
      assert.deepEqual(listed.data.map((s: any) => [s.id, s.status]), [[null, 'current'], [r.body.previous_secret.id, 'ended']]);
      assert.ok(!JSON.stringify(listed).includes('hash'), 'no hash in the view');
    });

    test('grace 0 (the default) stops the old secret at once; bad bodies are 400 naming the field', async () => {
      const { key, secret } = await newKey();
      assert.equal(await call(gw.openai(secret)), 200);
      const r = await rotate(key.id);
      assert.equal(r.status, 201);
      assert.equal(r.body.previous_secret.valid_until, r.body.rotated_at);
      assert.equal((await denial(gw.openai(secret))).error.code, 'invalid_api_key');
      assert.equal(await call(gw.openai(r.body.key)), 200);
      for (const [body, param] of [[{ grace_period_seconds: 30 * 86_400 + 1 }, 'grace_period_seconds'], [{ grace_period_seconds: -1 }, 'grace_period_seconds'], [{ grace_period_seconds: 1.5 }, 'grace_period_seconds'], [{ grace: 5 }, 'grace']] as const) {
        const bad = await rotate(key.id, body);
        assert.equal(bad.status, 400, JSON.stringify(body));
        assert.equal(bad.body.error.param, param);
      }
      assert.equal((await rotate(key.id, { grace_period_seconds: 30 * 86_400 })).status, 201, 'the cap itself is allowed');
    });

    test('a retried rotate with the same Idempotency-Key answers with the same metadata and rotates once', async () => {
      const { key, secret } = await newKey();
      const first = await rotate(key.id, { grace_period_seconds: 600 }, { 'idempotency-key': 'deploy-42' });
      assert.equal(first.status, 201);
      const again = await rotate(key.id, { grace_period_seconds: 600 }, { 'idempotency-key': 'deploy-42' });
      assert.equal(again.status, 200);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.body.key, undefined, 'no secret in a replay');
      assert.equal(again.body.id, key.id);
      assert.equal(again.body.key_prefix, first.body.key_prefix);
      assert.equal(again.body.rotated_at, first.body.rotated_at);
      assert.deepEqual(again.body.previous_secret, first.body.previous_secret);
      assert.equal(await call(gw.openai(first.body.key)), 200, 'the first new secret is still the current one');
      assert.equal(await call(gw.openai(secret)), 200, 'and the original is in its grace period');
      assert.equal((await secrets(key.id)).data.length, 2, 'one rotation');

      const mismatch = await rotate(key.id, { grace_period_seconds: 5 }, { 'idempotency-key': 'deploy-42' });
      assert.equal(mismatch.status, 409);
      assert.equal(mismatch.body.error.param, 'Idempotency-Key');
      const bad = await rotate(key.id, {}, { 'idempotency-key': 'a b' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.param, 'Idempotency-Key');

      // Two retries racing: one rotation, and both answers describe it.
      const racing = await Promise.all([rotate(key.id, {}, { 'idempotency-key': 'race' }), rotate(key.id, {}, { 'idempotency-key': 'race' })]);
      assert.deepEqual(racing.map((x) => x.status).sort(), [200, 201]);
      assert.equal(racing[0].body.key_prefix, racing[1].body.key_prefix);
      assert.equal((await secrets(key.id)).data.length, 3, 'one more rotation, not two');

      // The same header value on another key is another rotation.
      const other = await newKey();
      assert.equal((await rotate(other.key.id, { grace_period_seconds: 600 }, { 'idempotency-key': 'deploy-42' })).status, 201);
      // After a day the record is gone and the value may be used again.
      clock.advance(24 * HOUR);
      assert.equal((await rotate(key.id, { grace_period_seconds: 600 }, { 'idempotency-key': 'deploy-42' })).status, 201);
    });

    test('an admin ends a grace period early: the old secret is refused at once, even warm', async () => {
      const { key, secret } = await newKey();
      const r = await rotate(key.id, { grace_period_seconds: 3600 });
      assert.equal(await call(gw.openai(secret)), 200, 'warm');
      const ended = await gw.api('DELETE', `/api/keys/${key.id}/secrets/${r.body.previous_secret.id}`);
      assert.equal(ended.status, 200);
      assert.equal(ended.body.status, 'ended');
      assert.equal(ended.body.ended_at, new Date(clock.now()).toISOString());
      assert.equal((await denial(gw.openai(secret))).error.code, 'invalid_api_key');
      assert.equal(await call(gw.openai(r.body.key)), 200);
      assert.equal((await gw.api('DELETE', `/api/keys/${key.id}/secrets/${r.body.previous_secret.id}`)).status, 200, 'idempotent');
      const other = await newKey();
      assert.equal((await gw.api('DELETE', `/api/keys/${other.key.id}/secrets/${r.body.previous_secret.id}`)).status, 404, "another key's secret");
      assert.equal((await gw.api('DELETE', `/api/keys/${key.id}/secrets/999999`)).status, 404);
      const audit = await gw.runtime.deps.db.kysely.selectFrom('audit_events').select('action').where('target_type', '=', 'key').where('target_id', '=', String(key.id)).orderBy('id').execute();
      assert.deepEqual(audit.map((a) => a.action), ['key.create', 'key.rotate', 'key.secret.end']);
    });

    test('each secret has its own last_used_at', async () => {
      const { key, secret } = await newKey();
      const t = (h: number) => new Date(Date.parse('2026-04-10T00:00:00Z') + h * HOUR).toISOString();
      clock.set(t(0));
      assert.equal(await call(gw.openai(secret)), 200);
      await gw.flush();
      clock.set(t(1));
      const r = await rotate(key.id, { grace_period_seconds: 10 * 3600 });
      let listed = (await secrets(key.id)).data;
      assert.equal(listed[0].last_used_at, null, 'the new secret: never used');
      assert.equal(listed[0].created_at, t(1));
      assert.equal(listed[1].last_used_at, t(0), 'the old secret: its use before the rotation');
      clock.set(t(2));
      assert.equal(await call(gw.openai(secret)), 200);
      clock.set(t(3));
      assert.equal(await call(gw.openai(r.body.key)), 200);
      await gw.flush();
      listed = (await secrets(key.id)).data;
      assert.deepEqual(listed.map((s: any) => [s.status, s.last_used_at]), [['current', t(3)], ['grace', t(2)]]);
      clock.set(t(4));
      assert.equal(await call(gw.openai(r.body.key)), 200);
      await gw.flush();
      listed = (await secrets(key.id)).data;
      assert.deepEqual(listed.map((s: any) => s.last_used_at), [t(4), t(2)], 'the old secret went quiet at t(2)');
      assert.equal((await gw.api('GET', `/api/keys/${key.id}`)).body.last_used_at, t(4));
    });

    test('revoking the key ends every secret', async () => {
      const { key, secret } = await newKey();
      const r = await rotate(key.id, { grace_period_seconds: 3600 });
      assert.equal(await call(gw.openai(secret)), 200);
      assert.equal((await gw.api('DELETE', `/api/keys/${key.id}`)).status, 200);
      assert.equal((await denial(gw.openai(secret))).error.code, 'invalid_api_key', 'the old secret');
      assert.equal((await denial(gw.openai(r.body.key))).error.code, 'key_revoked', 'the current one');
      const listed = (await secrets(key.id)).data;
      assert.equal(listed[1].status, 'ended');
      assert.ok(listed[1].ended_at);
      assert.equal((await rotate(key.id)).status, 409, 'a revoked key cannot be rotated');
    });

    test('without a key webhook a rotation schedule is refused: its new secrets would reach no one', async () => {
      const { key } = await newKey();
      const res = await gw.api('PUT', `/api/keys/${key.id}/rotation-schedule`, { rotate_every_days: 30 });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.param, 'rotate_every_days');
      assert.match(res.body.error.message, /TOLLGATE_KEY_WEBHOOK_URL/);
      assert.equal((await gw.api('GET', `/api/keys/${key.id}/rotation-schedule`)).body.rotate_every_days, null);
    });

    test('the team route rotates the same way; another team cannot', async () => {
      const { team, key, secret } = await newKey();
      const other = await newKey();
      assert.equal((await gw.api('POST', `/api/teams/${other.team.id}/keys/${key.id}/rotate`, {})).status, 404);
      const r = await gw.api('POST', `/api/teams/${team.id}/keys/${key.id}/rotate`, { grace_period_seconds: 60 });
      assert.equal(r.status, 201);
      assert.equal(r.body.id, key.id);
      assert.equal(await call(gw.openai(secret)), 200);
      assert.equal(await call(gw.openai(r.body.key)), 200);
    });
  });

  describe(`a client through a rotation (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ dialect, env: { TOLLGATE_ROTATION_CHECK_SECONDS: '0' } });
    });
    after(() => gw?.close());

    test('requests sent continuously while the key rotates (grace 60 s) never fail', async () => {
      const key = (await gw.api('POST', '/api/keys', { name: 'busy' })).body;
      let rotated: { secret: string; at: number } | undefined;
      let stop = false;
      const outcomes: Array<{ secret: 'old' | 'new'; ok: boolean; error?: string }> = [];
      // Four workers; two pick up the new secret only 300 ms after the rotation (a deployment
      // rolling out), so the old secret is still used after it has been replaced.
      const worker = async (lag: number) => {
        for (let i = 0; !stop; i++) {
          const fresh = rotated !== undefined && performance.now() - rotated.at >= lag;
          const client = gw.openai(fresh ? rotated!.secret : key.key);
          try {
            if (i % 2) {
              const s = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true });
              for await (const _ of s) { /* read to the end */ }
            } else {
              await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
            }
            outcomes.push({ secret: fresh ? 'new' : 'old', ok: true });
          } catch (err) {
            outcomes.push({ secret: fresh ? 'new' : 'old', ok: false, error: String(err) });
          }
        }
      };
      const workers = [worker(0), worker(0), worker(300), worker(300)];
      await sleep(300);
      const r = await gw.api('POST', `/api/keys/${key.id}/rotate`, { grace_period_seconds: 60 });
      assert.equal(r.status, 201);
      rotated = { secret: r.body.key, at: performance.now() };
      await sleep(800);
      stop = true;
      await Promise.all(workers);
      const failed = outcomes.filter((o) => !o.ok);
      assert.deepEqual(failed, [], 'zero failed requests');
      assert.ok(outcomes.filter((o) => o.secret === 'new').length > 0, 'the new secret was used');
      const oldAfter = outcomes.filter((o) => o.secret === 'old').length;
      assert.ok(oldAfter > 0, 'the old secret was used');
      await gw.flush();
      const listed = (await gw.api('GET', `/api/keys/${key.id}/secrets`)).body.data;
      assert.ok(listed[1].last_used_at > r.body.rotated_at, 'the old secret was used after the rotation');
    });
  });
}
