// Scheduled rotation and expiry reminders, driven by a fake clock (the scheduler's tick(now) is
// called directly): a due key is rotated once and its new secret reaches the key webhook, signed
// like budget alerts; a failed delivery changes nothing and is retried; two schedulers on two
// database connections racing over the same due keys rotate each exactly once; an expiry
// reminder fires once per expiry.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DIALECTS, dialectSkip, startGateway, TestClock, type Gateway } from './support/gateway.ts';
import { signature } from '../src/policy/alerts.ts';
import { openDb, type Db } from '../src/db/connection.ts';
import { RotationScheduler } from '../src/keys/rotation-scheduler.ts';

const DAY = 86_400_000;
const HOOK_SECRET = 'whsec-key-events';

interface Delivery { event: string; body: any; valid: boolean }

/** The key webhook: checks each signature as a receiver would; answers 500 while `failing`. */
async function startHook(): Promise<{ url: string; received: Delivery[]; failing: { on: boolean }; delayMs: { value: number }; close(): void }> {
  const received: Delivery[] = [];
  const failing = { on: false };
  const delayMs = { value: 0 };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', async () => {
      await sleep(delayMs.value);
      if (failing.on) {
        res.statusCode = 500;
        return res.end('down');
      }
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['x-tollgate-signature']));
      const valid = m !== null && signature(HOOK_SECRET, Number(m[1]), raw) === m[2];
      received.push({ event: String(req.headers['x-tollgate-event']), body: JSON.parse(raw), valid });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`, received, failing, delayMs, close: () => server.close() };
}

for (const dialect of DIALECTS) {
  describe(`scheduled rotation and expiry reminders (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    let hook: Awaited<ReturnType<typeof startHook>>;
    const clock = new TestClock(Date.parse('2026-03-01T00:00:00Z'));
    const tick = () => gw.runtime.rotation.tick(clock.now());
    const chat = async (secret: string) => {
      try {
        await gw.openai(secret).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
        return 200;
      } catch (err) {
        return (err as { status: number }).status;
      }
    };
    const newKey = async (body: Record<string, unknown> = {}) => (await gw.api('POST', '/api/keys', { name: 'svc', ...body })).body;

    before(async () => {
      hook = await startHook();
      gw = await startGateway({ dialect, clock, env: { TOLLGATE_ROTATION_CHECK_SECONDS: '0', TOLLGATE_KEY_WEBHOOK_URL: hook.url, TOLLGATE_KEY_WEBHOOK_SECRET: HOOK_SECRET } });
    });
    after(async () => {
      await gw?.close();
      hook?.close();
    });

    test('a due key is rotated once; the webhook receives its new secret, signed; the old one keeps its grace period', async () => {
      clock.set('2026-03-01T00:00:00Z');
      const key = await newKey();
      const put = await gw.api('PUT', `/api/keys/${key.id}/rotation-schedule`, { rotate_every_days: 30, grace_period_seconds: 3600 });
      assert.equal(put.status, 200);
      assert.deepEqual(put.body, { key_id: key.id, rotate_every_days: 30, grace_period_seconds: 3600, next_rotation_at: '2026-03-31T00:00:00.000Z', last_rotated_at: null });
      hook.received.length = 0;

      clock.set('2026-03-30T23:59:59Z');
      assert.deepEqual((await tick()).rotated, [], 'not due yet');
      clock.set('2026-03-31T00:00:00Z');
      assert.deepEqual((await tick()).rotated, [key.id]);
      assert.deepEqual((await tick()).rotated, [], 'once');

      assert.equal(hook.received.length, 1);
      const d = hook.received[0]!;
      assert.equal(d.event, 'key.rotated');
      assert.ok(d.valid, 'signed like budget alerts');
      assert.equal(d.body.key_id, key.id);
      assert.match(d.body.key, /^sk-tg-/);
      assert.deepEqual(d.body.previous_secret, { key_prefix: key.key_prefix, valid_until: '2026-03-31T01:00:00.000Z' });
      assert.equal(d.body.next_rotation_at, '2026-04-30T00:00:00.000Z');

      assert.equal(await chat(d.body.key), 200, 'the delivered secret works');
      assert.equal(await chat(key.key), 200, 'the old one, in its grace period');
      clock.set('2026-03-31T01:00:00Z');
      assert.equal(await chat(key.key), 401, 'and not after it');

      const schedule = (await gw.api('GET', `/api/keys/${key.id}/rotation-schedule`)).body;
      assert.equal(schedule.next_rotation_at, '2026-04-30T00:00:00.000Z');
      assert.equal(schedule.last_rotated_at, '2026-03-31T00:00:00.000Z');
      const secrets = (await gw.api('GET', `/api/keys/${key.id}/secrets`)).body;
      assert.equal(secrets.data[0].key_prefix, d.body.key_prefix);
      assert.equal(secrets.rotation_schedule.rotate_every_days, 30);
      const audit = await gw.runtime.deps.db.kysely.selectFrom('audit_events').selectAll().where('action', '=', 'key.rotate').where('target_id', '=', String(key.id)).execute();
      assert.equal(audit.length, 1);
      assert.deepEqual([audit[0]!.actor_type, audit[0]!.actor_id], ['system', 'rotation']);
      assert.ok(!JSON.stringify(audit).includes(d.body.key), 'the secret is not in the audit log');
      await gw.api('DELETE', `/api/keys/${key.id}/rotation-schedule`);
    });

    test('a failed delivery rotates nothing and is retried after the claim lapses', async () => {
      clock.set('2026-05-01T00:00:00Z');
      const key = await newKey();
      await gw.api('PUT', `/api/keys/${key.id}/rotation-schedule`, { rotate_every_days: 1 });
      clock.set('2026-05-02T00:00:00Z');
      hook.received.length = 0;
      hook.failing.on = true;
      assert.deepEqual((await tick()).rotated, []);
      assert.equal(await chat(key.key), 200, 'the current secret is unchanged');
      assert.equal((await gw.api('GET', `/api/keys/${key.id}/secrets`)).body.data.length, 1);
      hook.failing.on = false;
      assert.deepEqual((await tick()).rotated, [], 'claimed: not retried at once');
      clock.advance(5 * 60_000);
      assert.deepEqual((await tick()).rotated, [key.id], 'retried after the lease');
      assert.equal(hook.received.length, 1);
      assert.equal(await chat(hook.received[0]!.body.key), 200);
      assert.equal(await chat(key.key), 200, 'default grace period: a day');
      await gw.api('DELETE', `/api/keys/${key.id}/rotation-schedule`);
    });

    test('older secrets are listed for 30 days after they stopped working, then forgotten by the check', async () => {
      clock.set('2026-06-01T00:00:00Z');
      const key = await newKey();
      const rotated = (await gw.api('POST', `/api/keys/${key.id}/rotate`, { grace_period_seconds: 3600 })).body;
      assert.equal(rotated.previous_secret.valid_until, '2026-06-01T01:00:00.000Z');
      const listed = async () => (await gw.api('GET', `/api/keys/${key.id}/secrets`)).body.data.map((s: { status: string }) => s.status);
      clock.set('2026-07-01T00:59:59Z');
      await tick();
      assert.deepEqual(await listed(), ['current', 'ended'], 'ended 29 days and 23 hours ago: still listed');
      clock.set('2026-07-01T01:00:01Z');
      assert.ok((await tick()).pruned >= 1);
      assert.deepEqual(await listed(), ['current'], 'forgotten after 30 days');
      assert.equal(await chat(rotated.key), 200, 'the current secret is untouched');
      assert.equal(await chat(key.key), 401);
    });

    test('two schedulers on two connections racing over the same due keys rotate each exactly once', async () => {
      clock.set('2026-06-01T00:00:00Z');
      const keys = [];
      for (let i = 0; i < 6; i++) {
        const k = await newKey();
        assert.equal((await gw.api('PUT', `/api/keys/${k.id}/rotation-schedule`, { rotate_every_days: 7 })).status, 200);
        keys.push(k);
      }
      clock.set('2026-06-08T00:00:00Z');
      hook.received.length = 0;
      hook.delayMs.value = 20; // deliveries overlap: each scheduler is mid-rotation while the other looks
      const db2: Db = openDb(gw.runtime.deps.config.databaseUrl);
      const opts = { checkMs: 0, reminderDays: 7, sinks: gw.runtime.deps.config.keyWebhooks, onError: (what: string, err: unknown) => assert.fail(`${what}: ${String(err)}`) };
      const other = new RotationScheduler({ db: db2, clock, invalidator: gw.runtime.deps.invalidator }, opts);
      try {
        const [a, b] = await Promise.all([tick(), other.tick(clock.now())]);
        const all = [...a.rotated, ...b.rotated].sort((x, y) => x - y);
        assert.deepEqual(all, keys.map((k) => k.id), `each once: ${JSON.stringify([a.rotated, b.rotated])}`);
      } finally {
        hook.delayMs.value = 0;
        await db2.close();
      }
      assert.equal(hook.received.length, keys.length, 'one delivery per key');
      for (const k of keys) {
        const secrets = (await gw.api('GET', `/api/keys/${k.id}/secrets`)).body.data;
        assert.equal(secrets.length, 2, `key ${k.id} rotated once`);
        const delivered = hook.received.find((d) => d.body.key_id === k.id)!;
        assert.equal(await chat(delivered.body.key), 200);
        await gw.api('DELETE', `/api/keys/${k.id}/rotation-schedule`);
      }
    });

    test('a manual rotation restarts the period; revocation removes the schedule; bad schedules are 400', async () => {
      clock.set('2026-07-01T00:00:00Z');
      const key = await newKey();
      await gw.api('PUT', `/api/keys/${key.id}/rotation-schedule`, { rotate_every_days: 10 });
      clock.set('2026-07-05T00:00:00Z');
      assert.equal((await gw.api('POST', `/api/keys/${key.id}/rotate`, {})).status, 201);
      assert.equal((await gw.api('GET', `/api/keys/${key.id}/rotation-schedule`)).body.next_rotation_at, '2026-07-15T00:00:00.000Z');
      for (const [body, param] of [[{ rotate_every_days: 0 }, 'rotate_every_days'], [{ rotate_every_days: 366 }, 'rotate_every_days'], [{}, 'rotate_every_days'], [{ rotate_every_days: 1, grace_period_seconds: 86_401 }, 'grace_period_seconds'], [{ rotate_every_days: 1, every: 2 }, 'every']] as const) {
        const bad = await gw.api('PUT', `/api/keys/${key.id}/rotation-schedule`, body);
        assert.equal(bad.status, 400, JSON.stringify(body));
        assert.equal(bad.body.error.param, param);
      }
      assert.equal((await gw.api('DELETE', `/api/keys/${key.id}`)).status, 200);
      assert.equal((await gw.api('GET', `/api/keys/${key.id}/rotation-schedule`)).body.rotate_every_days, null);
      assert.equal((await gw.api('PUT', `/api/keys/${key.id}/rotation-schedule`, { rotate_every_days: 10 })).status, 409);
    });

    test('an expiry reminder fires once per expiry, on one replica, N days ahead', async () => {
      clock.set('2026-08-01T00:00:00Z');
      const key = await newKey({ expires_at: '2026-08-11T00:00:00Z' });
      const revoked = await newKey({ expires_at: '2026-08-11T00:00:00Z' });
      await gw.api('DELETE', `/api/keys/${revoked.id}`);
      hook.received.length = 0;
      assert.deepEqual((await tick()).reminded, [], '10 days ahead: not yet');
      clock.set('2026-08-04T00:00:00Z');
      const db2 = openDb(gw.runtime.deps.config.databaseUrl);
      const other = new RotationScheduler({ db: db2, clock, invalidator: gw.runtime.deps.invalidator }, { checkMs: 0, reminderDays: 7, sinks: gw.runtime.deps.config.keyWebhooks, onError: () => {} });
      try {
        const [a, b] = await Promise.all([tick(), other.tick(clock.now())]);
        assert.deepEqual([...a.reminded, ...b.reminded], [key.id], 'one reminder, for the active key only');
      } finally {
        await db2.close();
      }
      assert.deepEqual((await tick()).reminded, [], 'once');
      const reminders = hook.received.filter((d) => d.event === 'key.expiring');
      assert.equal(reminders.length, 1);
      assert.ok(reminders[0]!.valid);
      assert.deepEqual({ ...reminders[0]!.body, at: undefined }, { type: 'key.expiring', org_id: 1, team_id: null, key_id: key.id, name: 'svc', key_prefix: key.key_prefix, expires_at: '2026-08-11T00:00:00.000Z', at: undefined });
      // A new expiry re-arms it.
      assert.equal((await gw.api('PATCH', `/api/keys/${key.id}`, { expires_at: '2026-08-09T00:00:00Z' })).status, 200);
      assert.deepEqual((await tick()).reminded, [key.id]);
      assert.deepEqual((await tick()).reminded, []);
      const audit = await gw.runtime.deps.db.kysely.selectFrom('audit_events').select(['action', 'actor_id']).where('action', '=', 'key.expiring').where('target_id', '=', String(key.id)).execute();
      assert.equal(audit.length, 2);
    });
  });
}
