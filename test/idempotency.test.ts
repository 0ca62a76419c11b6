// Idempotency-Key on creates and rotations (src/http/idempotency.ts): a retry answers with the
// first answer and creates nothing; another request with the same key is 409; a secret is shown
// once; records expire after 24 hours; racing duplicates make one object (both dialects).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_KEY, DIALECTS, dialectSkip, startGateway, TestClock, type Gateway } from './support/gateway.ts';
import { signedInUser } from './support/sessions.ts';

const HOUR = 3_600_000;

async function post(gw: Gateway, path: string, body: unknown, idem?: string, cred = ADMIN_KEY) {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-admin-key': cred };
  if (idem !== undefined) headers['idempotency-key'] = idem;
  const res = await fetch(gw.url + path, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

for (const dialect of DIALECTS) {
  describe(`Idempotency-Key (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    const clock = new TestClock(Date.parse('2026-03-28T12:00:00Z'));
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ dialect, clock });
    });
    after(() => gw?.close());

    const teamsNamed = async (name: string) => ((await gw.api('GET', '/api/teams?limit=1000')).body.data as { id: number; name: string }[]).filter((t) => t.name === name);

    test('a retried create answers with the first answer and creates nothing', async () => {
      const first = await post(gw, '/api/teams', { name: 'Retry team' }, 'team-create-1');
      assert.equal(first.status, 201);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      const again = await post(gw, '/api/teams', { name: 'Retry team' }, 'team-create-1');
      assert.equal(again.status, 201);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(again.body, first.body);
      assert.equal((await teamsNamed('Retry team')).length, 1);
      // The same body with its fields in another order is the same request.
      const reordered = await post(gw, `/api/teams/${first.body.id}/service-accounts`, { description: 'x', name: 'bot' }, 'sa-1');
      const swapped = await post(gw, `/api/teams/${first.body.id}/service-accounts`, { name: 'bot', description: 'x' }, 'sa-1');
      assert.equal(swapped.headers.get('idempotent-replayed'), 'true');
      assert.equal(swapped.body.id, reordered.body.id);
    });

    test('without the header, each request creates', async () => {
      const a = await post(gw, '/api/access-groups', { name: 'no-key-a', models: ['gpt-4o-mini'] });
      const b = await post(gw, '/api/access-groups', { name: 'no-key-b', models: ['gpt-4o-mini'] });
      assert.equal(a.status, 201);
      assert.equal(b.status, 201);
      assert.notEqual(a.body.id, b.body.id);
    });

    test('the same key with another body or route is 409 naming Idempotency-Key', async () => {
      const first = await post(gw, '/api/teams', { name: 'Conflict team' }, 'conflict-1');
      assert.equal(first.status, 201);
      const other = await post(gw, '/api/teams', { name: 'Another team' }, 'conflict-1');
      assert.equal(other.status, 409);
      assert.equal(other.body.error.code, 'conflict');
      assert.equal(other.body.error.param, 'Idempotency-Key');
      const otherRoute = await post(gw, '/api/access-groups', { name: 'Conflict team', models: ['gpt-4o-mini'] }, 'conflict-1');
      assert.equal(otherRoute.status, 409);
      assert.equal(otherRoute.body.error.param, 'Idempotency-Key');
      assert.deepEqual(await teamsNamed('Another team'), []);
    });

    test('a malformed key is 400 naming Idempotency-Key', async () => {
      const res = await post(gw, '/api/teams', { name: 'Bad key team' }, 'has space');
      assert.equal(res.status, 400);
      assert.equal(res.body.error.param, 'Idempotency-Key');
      assert.deepEqual(await teamsNamed('Bad key team'), []);
    });

    test('a failed first request leaves the key free', async () => {
      const bad = await post(gw, '/api/teams', { name: '' }, 'fails-first');
      assert.equal(bad.status, 400);
      const good = await post(gw, '/api/teams', { name: 'After failure' }, 'fails-first');
      assert.equal(good.status, 201);
      assert.equal(good.headers.get('idempotent-replayed'), null);
    });

    test("a key's secret is shown once: the replay leaves it out and says so", async () => {
      const first = await post(gw, '/api/keys', { name: 'idem-key', team_id: null }, 'key-create-1');
      assert.equal(first.status, 201);
      assert.match(first.body.key, /^sk-tg-/);
      const again = await post(gw, '/api/keys', { name: 'idem-key', team_id: null }, 'key-create-1');
      assert.equal(again.status, 201);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.headers.get('idempotent-secret-omitted'), 'key');
      assert.equal(again.body.key, undefined);
      assert.equal(again.body.id, first.body.id);
      assert.equal(again.body.key_prefix, first.body.key_prefix);
      // The secret is not at rest in the record either.
      const rows = await gw.runtime.deps.db.kysely.selectFrom('idempotency_records' as any).selectAll().execute();
      assert.ok(rows.length > 0);
      assert.ok(!JSON.stringify(rows).includes(first.body.key));
      const keys = (await gw.api('GET', '/api/keys?limit=1000')).body.data as { name: string }[];
      assert.equal(keys.filter((k) => k.name === 'idem-key').length, 1);
    });

    test('rotating a management key is idempotent too', async () => {
      const mk = await post(gw, '/api/management-keys', { name: 'idem-mk', role: 'admin' });
      assert.equal(mk.status, 201);
      const first = await post(gw, `/api/management-keys/${mk.body.id}/rotate`, {}, 'mk-rotate-1');
      assert.equal(first.status, 200);
      const again = await post(gw, `/api/management-keys/${mk.body.id}/rotate`, {}, 'mk-rotate-1');
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.body.key, undefined);
      // Only the first rotation happened: its secret works, and rotating once more is a new key.
      const me = await fetch(gw.url + '/api/me', { headers: { authorization: `Bearer ${first.body.key}` } });
      assert.equal(me.status, 200);
    });

    test('the key belongs to its caller: another caller with the same key creates its own', async () => {
      const mk = await post(gw, '/api/management-keys', { name: 'second-caller', role: 'admin' });
      const mine = await post(gw, '/api/teams', { name: 'Caller A team' }, 'shared-key');
      const theirs = await post(gw, '/api/teams', { name: 'Caller B team' }, 'shared-key', mk.body.key);
      assert.equal(mine.status, 201);
      assert.equal(theirs.status, 201);
      assert.notEqual(theirs.body.id, mine.body.id);
      assert.equal(theirs.headers.get('idempotent-replayed'), null);
    });

    test('a replay re-checks the right: a caller who lost it gets 403, not the answer', async () => {
      const team = await post(gw, '/api/teams', { name: 'Demotion team' });
      const owner = await signedInUser(gw, 'demoted-owner', 'member', { [team.body.id]: 'owner' });
      const send = async () => {
        const res = await fetch(gw.url + `/api/teams/${team.body.id}/service-accounts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: owner.cookie, 'x-csrf-token': owner.csrf, 'idempotency-key': 'demote-1' },
          body: JSON.stringify({ name: 'made-by-owner' }),
        });
        return { status: res.status, headers: res.headers, body: (await res.json()) as any };
      };
      assert.equal((await send()).status, 201);
      const users = (await gw.api('GET', '/api/users?external_id=demoted-owner')).body.data as { id: number }[];
      assert.equal((await gw.api('PUT', `/api/teams/${team.body.id}/members/${users[0]!.id}`, { role: 'member' })).status, 200);
      const again = await send();
      assert.equal(again.status, 403);
      assert.equal(again.body.error.code, 'forbidden');
    });

    test('after 24 hours the key is forgotten: the same request creates again', async () => {
      const first = await post(gw, '/api/access-groups', { name: 'expiring', models: ['gpt-4o-mini'] }, 'expires-1');
      assert.equal(first.status, 201);
      clock.advance(24 * HOUR - 1000);
      const within = await post(gw, '/api/access-groups', { name: 'expiring', models: ['gpt-4o-mini'] }, 'expires-1');
      assert.equal(within.headers.get('idempotent-replayed'), 'true');
      clock.advance(2000);
      const later = await post(gw, '/api/access-groups', { name: 'expiring', models: ['gpt-4o-mini'] }, 'expires-1');
      // A new request: the group exists already, so the create itself answers (409 on its name), not a replay.
      assert.equal(later.headers.get('idempotent-replayed'), null);
      assert.equal(later.status, 409);
      assert.equal(later.body.error.param, 'name');
      const again = await post(gw, '/api/keys', { name: 'expiring key', team_id: null }, 'expires-2');
      clock.advance(25 * HOUR);
      const second = await post(gw, '/api/keys', { name: 'expiring key', team_id: null }, 'expires-2');
      assert.match(second.body.key, /^sk-tg-/);
      assert.equal(second.status, 201);
      assert.notEqual(second.body.id, again.body.id);
    });

    test('racing duplicates make one object, and every answer names it', async () => {
      const answers = await Promise.all(Array.from({ length: 6 }, () => post(gw, '/api/teams', { name: 'Race team' }, 'race-1')));
      for (const a of answers) assert.equal(a.status, 201, JSON.stringify(a.body));
      assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
      assert.equal(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true').length, 5);
      assert.equal((await teamsNamed('Race team')).length, 1);
    });
  });
}

describe('PUT converges: the same PUT again changes nothing and records nothing', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw?.close());

  const auditCount = async () => (await gw.runtime.deps.db.kysely.selectFrom('audit_events').select('id').execute()).length;
  const withoutTimes = (b: Record<string, unknown>) => ({ ...b, updated_at: undefined });

  test('limits at every level, the org access rule, self-service', async () => {
    const team = (await gw.api('POST', '/api/teams', { name: 'Converging' })).body;
    const user = (await gw.api('POST', '/api/users', { external_id: 'converging-user' })).body;
    const sa = (await gw.api('POST', `/api/teams/${team.id}/service-accounts`, { name: 'converging-sa' })).body;
    const key = (await gw.api('POST', '/api/keys', { name: 'converging-key', team_id: team.id })).body;
    assert.equal((await gw.api('PUT', `/api/teams/${team.id}/members/${user.id}`, { role: 'member' })).status, 200);
    const puts: Array<[string, unknown]> = [
      [`/api/teams/${team.id}/limits`, { rpm: 100, max_budget_usd: 50, budget_period: 'monthly' }],
      [`/api/keys/${key.id}/limits`, { rpm: 10 }],
      [`/api/teams/${team.id}/members/${user.id}/limits`, { rpm: 5 }],
      [`/api/service-accounts/${sa.id}/limits`, { tpm: 5000 }],
      ['/api/orgs/current/limits', { rpm: 1000 }],
      ['/api/orgs/current/access', { blocked_models: ['gpt-3.5-turbo'] }],
      [`/api/teams/${team.id}/self-service`, { enabled: true, max_keys_per_user: 3 }],
    ];
    for (const [path, body] of puts) {
      const first = await gw.api('PUT', path, body);
      assert.equal(first.status, 200, `${path}: ${JSON.stringify(first.body)}`);
      const events = await auditCount();
      const again = await gw.api('PUT', path, body);
      assert.equal(again.status, 200, path);
      assert.deepEqual(withoutTimes(again.body), withoutTimes(first.body), path);
      assert.equal(await auditCount(), events, `${path}: a PUT that changed nothing wrote an audit event`);
    }
    // A real change is still recorded.
    const changed = await gw.api('PUT', `/api/teams/${team.id}/limits`, { rpm: 101 });
    assert.equal(changed.status, 200);
    const events = await auditCount();
    assert.equal((await gw.api('PUT', `/api/teams/${team.id}/limits`, { rpm: 102 })).status, 200);
    assert.equal(await auditCount(), events + 1);
  });

  test('teams and memberships: the same state again (their audit event, and a team\'s updated_at, are the known exception)', async () => {
    const team = (await gw.api('POST', '/api/teams', { name: 'Converging team' })).body;
    const first = await gw.api('PUT', `/api/teams/${team.id}`, { name: 'Converging team', description: 'd' });
    const again = await gw.api('PUT', `/api/teams/${team.id}`, { name: 'Converging team', description: 'd' });
    assert.deepEqual(withoutTimes(again.body), withoutTimes(first.body));
    const user = (await gw.api('POST', '/api/users', { external_id: 'converging-member' })).body;
    const body = { role: 'member', allocation_usd: 10, key_create_self: true };
    const m1 = await gw.api('PUT', `/api/teams/${team.id}/members/${user.id}`, body);
    const m2 = await gw.api('PUT', `/api/teams/${team.id}/members/${user.id}`, body);
    assert.equal(m2.status, 200);
    assert.deepEqual(m2.body, m1.body);
  });
});
