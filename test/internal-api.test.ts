// /internal/* (seed 001's admin API, issue 15) beyond the seed's walkthrough: each bad field named,
// 404s, the user-in-several-teams case, ids that round-trip with /api, the list envelope and its
// paging, and the audit events the /api twins write. On SQLite and PostgreSQL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_KEY, DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';

const num = (id: string) => Number(id.replace(/^[a-z]+_/, ''));

for (const dialect of DIALECTS) describe(`/internal API (${dialect})`, { skip: dialectSkip(dialect) }, () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ dialect });
  });
  after(() => gw?.close());

  const expect400 = async (method: string, path: string, body: unknown, param: string, status = 400) => {
    const res = await gw.api(method, path, body);
    assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)} → ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.param, param, JSON.stringify(res.body));
    assert.equal(res.body.error.type, status === 404 ? 'not_found_error' : 'invalid_request_error');
    return res.body.error;
  };

  test('teams: each bad field named; member_share passed through to the team policy', async () => {
    await expect400('POST', '/internal/teams', {}, 'name');
    await expect400('POST', '/internal/teams', { name: '' }, 'name');
    await expect400('POST', '/internal/teams', { name: 'x', tpm_limit: 'lots' }, 'tpm_limit');
    await expect400('POST', '/internal/teams', { name: 'x', tpm_limit: 1.5 }, 'tpm_limit');
    await expect400('POST', '/internal/teams', { name: 'x', daily_token_limit: -1 }, 'daily_token_limit');
    await expect400('POST', '/internal/teams', { name: 'x', slug: 'x' }, 'slug');
    await expect400('POST', '/internal/teams', { name: 'x', member_share: 2 }, 'member_share');
    await expect400('POST', '/internal/teams', { name: 'x', member_share: 'unfair' }, 'member_share');

    const plain = await gw.api('POST', '/internal/teams', { name: 'No limits' });
    assert.equal(plain.status, 201);
    assert.deepEqual({ ...plain.body, id: undefined, created_at: undefined }, { id: undefined, name: 'No limits', tpm_limit: null, daily_token_limit: null, member_share: null, created_at: undefined });

    // Issue 15 part B (the lead's member_share): the same field as POST /api/teams.
    const fair = await gw.api('POST', '/internal/teams', { name: 'Fair team', tpm_limit: 1000, member_share: 'fair' });
    assert.equal(fair.status, 201, JSON.stringify(fair.body));
    assert.equal(fair.body.member_share, 'fair');
    const asApi = await gw.api('GET', `/api/teams/${num(fair.body.id)}`);
    assert.equal(asApi.body.limits.member_share, 'fair');
    assert.equal(asApi.body.tpm_limit, 1000);
    const half = await gw.api('POST', '/internal/teams', { name: 'Half team', tpm_limit: 1000, member_share: 0.5 });
    assert.equal(half.body.member_share, 0.5);
    const listed = (await gw.api('GET', '/internal/teams?limit=1000')).body.data;
    assert.equal(listed.find((t: any) => t.id === half.body.id).member_share, 0.5);
  });

  test('ids round-trip: team_<n> is /api/teams/<n>, objects made on either side are seen on the other', async () => {
    const viaApi = (await gw.api('POST', '/api/teams', { name: 'Made on api', tpm_limit: 500 })).body;
    const listed = (await gw.api('GET', '/internal/teams?limit=1000')).body.data;
    assert.deepEqual(listed.find((t: any) => t.id === `team_${viaApi.id}`), { id: `team_${viaApi.id}`, name: 'Made on api', tpm_limit: 500, daily_token_limit: null, member_share: null, created_at: viaApi.created_at });

    // The bare /api number is accepted as well as the prefixed form.
    const bare = await gw.api('POST', '/internal/users', { external_id: 'bare@example.com', team_id: viaApi.id });
    assert.equal(bare.status, 201, JSON.stringify(bare.body));
    assert.equal(bare.body.team_id, `team_${viaApi.id}`);
    const user = (await gw.api('GET', `/api/users/${num(bare.body.id)}`)).body;
    assert.equal(user.external_id, 'bare@example.com');
    assert.deepEqual(user.teams.map((t: any) => t.team_id), [viaApi.id]);

    const key = (await gw.api('POST', '/internal/api-keys', { name: 'rt', user_id: bare.body.id })).body;
    const apiKey = (await gw.api('GET', `/api/keys/${num(key.id)}`)).body;
    assert.equal(apiKey.team_id, viaApi.id);
    assert.equal(apiKey.user_id, num(bare.body.id));
    assert.equal(apiKey.key, undefined);
    // Revoked on /api: no longer listed on /internal, and a DELETE there is a 404.
    assert.equal((await gw.api('DELETE', `/api/keys/${apiKey.id}`)).status, 200);
    assert.ok(!(await gw.api('GET', '/internal/api-keys?limit=1000')).body.data.some((k: any) => k.id === key.id));
    await expect400('DELETE', `/internal/api-keys/${key.id}`, undefined, 'id', 404);
  });

  test('users: each bad field named, unknown team', async () => {
    await expect400('POST', '/internal/users', {}, 'external_id');
    await expect400('POST', '/internal/users', { external_id: 'a@example.com', team_id: 'team_x' }, 'team_id');
    await expect400('POST', '/internal/users', { external_id: 'a@example.com', team_id: 'user_3' }, 'team_id');
    await expect400('POST', '/internal/users', { external_id: 'a@example.com', team_id: 'team_99999' }, 'team_id');
    await expect400('POST', '/internal/users', { external_id: 'a@example.com', role: 'admin' }, 'role');
    const made = await gw.api('POST', '/internal/users', { external_id: 'dup@example.com' });
    assert.equal(made.status, 201);
    assert.equal(made.body.team_id, null);
    assert.deepEqual(made.body.team_ids, []);
    const dup = await expect400('POST', '/internal/users', { external_id: 'dup@example.com' }, 'external_id', 409);
    assert.equal(dup.code, 'conflict');
  });

  test('api-keys: each bad field named; the user\'s one team, no team, several teams', async () => {
    const t1 = (await gw.api('POST', '/internal/teams', { name: 'K one' })).body.id;
    const t2 = (await gw.api('POST', '/internal/teams', { name: 'K two' })).body.id;
    const none = (await gw.api('POST', '/internal/users', { external_id: 'none@example.com' })).body.id;
    const one = (await gw.api('POST', '/internal/users', { external_id: 'one@example.com', team_id: t1 })).body.id;
    const both = (await gw.api('POST', '/internal/users', { external_id: 'both@example.com', team_id: t1 })).body.id;
    assert.equal((await gw.api('PUT', `/api/teams/${num(t2)}/members/${num(both)}`, {})).status, 200);

    await expect400('POST', '/internal/api-keys', { user_id: one }, 'name');
    await expect400('POST', '/internal/api-keys', { name: 'k' }, 'user_id');
    await expect400('POST', '/internal/api-keys', { name: 'k', user_id: 'user_' }, 'user_id');
    await expect400('POST', '/internal/api-keys', { name: 'k', user_id: 'team_1' }, 'user_id');
    await expect400('POST', '/internal/api-keys', { name: 'k', user_id: 'user_99999' }, 'user_id');
    await expect400('POST', '/internal/api-keys', { name: 'k', user_id: one, team_id: 'ak_1' }, 'team_id');
    await expect400('POST', '/internal/api-keys', { name: 'k', user_id: one, team_id: t2 }, 'user_id');
    await expect400('POST', '/internal/api-keys', { name: 'k', user_id: one, tpm: 5 }, 'tpm');

    const severalError = await expect400('POST', '/internal/api-keys', { name: 'k', user_id: both }, 'team_id');
    assert.match(severalError.message, new RegExp(`${t1}.*${t2}`));
    const chosen = await gw.api('POST', '/internal/api-keys', { name: 'k', user_id: both, team_id: t2 });
    assert.equal(chosen.status, 201, JSON.stringify(chosen.body));
    assert.equal((await gw.api('GET', `/api/keys/${num(chosen.body.id)}`)).body.team_id, num(t2));

    const personal = await gw.api('POST', '/internal/api-keys', { name: 'k', user_id: none });
    assert.equal(personal.status, 201);
    assert.equal((await gw.api('GET', `/api/keys/${num(personal.body.id)}`)).body.team_id, null, 'a user in no team gets a key of no team');
    const inOne = await gw.api('POST', '/internal/api-keys', { name: 'k', user_id: one });
    assert.equal((await gw.api('GET', `/api/keys/${num(inOne.body.id)}`)).body.team_id, num(t1));

    const listing = await gw.api('GET', '/internal/api-keys?limit=1000');
    const text = JSON.stringify(listing.body);
    for (const k of [chosen.body.key, personal.body.key, inOne.body.key]) assert.ok(!text.includes(k), 'never the key');
    assert.deepEqual(listing.body.data.find((k: any) => k.id === chosen.body.id), {
      id: chosen.body.id, name: 'k', key_prefix: chosen.body.key_prefix, user_id: both, team_id: t2, status: 'active', created_at: chosen.body.created_at, expires_at: null, last_used_at: null,
    });
  });

  test('DELETE: malformed and unknown ids are 404s naming id; the bare number works; twice is a 404', async () => {
    await expect400('DELETE', '/internal/api-keys/ak_', undefined, 'id', 404);
    await expect400('DELETE', '/internal/api-keys/team_1', undefined, 'id', 404);
    await expect400('DELETE', '/internal/api-keys/ak_99999', undefined, 'id', 404);
    const user = (await gw.api('POST', '/internal/users', { external_id: 'del@example.com' })).body.id;
    const key = (await gw.api('POST', '/internal/api-keys', { name: 'to delete', user_id: user })).body;
    const res = await gw.api('DELETE', `/internal/api-keys/${num(key.id)}`);
    assert.deepEqual(res.body, { id: key.id, deleted: true });
    assert.equal((await gw.api('GET', `/api/keys/${num(key.id)}`)).body.status, 'revoked', 'revoked as DELETE /api/keys/{id} does');
    await expect400('DELETE', `/internal/api-keys/${key.id}`, undefined, 'id', 404);
  });

  test('creates take an Idempotency-Key, as on /api: a replay answers the first answer without the secret', async () => {
    const user = (await gw.api('POST', '/internal/users', { external_id: 'idem@example.com' })).body.id;
    const send = () => fetch(gw.url + '/internal/api-keys', { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_KEY}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'idem-1' }, body: JSON.stringify({ name: 'once', user_id: user }) });
    const first = await send();
    const firstBody = (await first.json()) as any;
    assert.equal(first.status, 201);
    const again = await send();
    const againBody = (await again.json()) as any;
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(againBody.id, firstBody.id, 'one key');
    assert.equal(againBody.key, undefined, 'the secret is not repeated');
  });

  test('listings: one envelope { data, next_after }, paged by limit and after', async () => {
    for (let i = 0; i < 3; i++) await gw.api('POST', '/internal/users', { external_id: `page-${i}@example.com` });
    for (const path of ['/internal/teams', '/internal/users', '/internal/api-keys']) {
      const all = (await gw.api('GET', `${path}?limit=1000`)).body;
      assert.deepEqual(Object.keys(all).sort(), ['data', 'next_after'], path);
      assert.equal(all.next_after, null, path);
      assert.ok(all.data.length >= 3, path);
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const page: any = (await gw.api('GET', `${path}?limit=2${after ? `&after=${after}` : ''}`)).body;
        assert.ok(page.data.length <= 2);
        seen.push(...page.data.map((x: any) => x.id));
        after = page.next_after;
      } while (after !== null);
      assert.deepEqual(seen, all.data.map((x: any) => x.id), `${path}: pages in id order, each row once`);
      await expect400('GET', `${path}?after=nope`, undefined, 'query.after');
      await expect400('GET', `${path}?limit=0`, undefined, 'query.limit');
      await expect400('GET', `${path}?offset=1`, undefined, 'query.offset');
    }
  });

  test('audit events are written as for /api, by the same code', async () => {
    const db = gw.runtime.deps.db.kysely;
    const start = (await db.selectFrom('audit_events').select((eb) => eb.fn.max('id').as('m')).executeTakeFirstOrThrow()).m ?? 0;
    const team = (await gw.api('POST', '/internal/teams', { name: 'Audited', tpm_limit: 10 })).body;
    const user = (await gw.api('POST', '/internal/users', { external_id: 'audited@example.com', team_id: team.id })).body;
    const key = (await gw.api('POST', '/internal/api-keys', { name: 'audited', user_id: user.id })).body;
    await gw.api('DELETE', `/internal/api-keys/${key.id}`);
    const events = await db.selectFrom('audit_events').selectAll().where('id', '>', Number(start)).orderBy('id').execute();
    assert.deepEqual(events.map((e) => [e.action, e.target_type, e.target_id, e.actor_type, e.actor_id, e.team_id]), [
      ['team.create', 'team', String(num(team.id)), 'admin_key', 'master', num(team.id)],
      ['user.create', 'user', String(num(user.id)), 'admin_key', 'master', num(team.id)],
      ['key.create', 'key', String(num(key.id)), 'admin_key', 'master', num(team.id)],
      ['key.revoke', 'key', String(num(key.id)), 'admin_key', 'master', num(team.id)],
    ]);
    assert.ok(!JSON.stringify(events).includes(key.key), 'no secret in the audit log');
    assert.equal(JSON.parse(events[0]!.after!).limits.tpm, 10);
  });
});
