// /api/access-groups on the running server, both dialects: CRUD, validation naming the field,
// names unique per organization, another tenant's groups invisible, a group still named by a rule
// refused on delete (409 saying who names it), and ?force=true removing it from those rules.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { insertGroup } from '../src/access/access-groups.repository.ts';
import { ApiError } from '../src/http/errors.ts';

for (const dialect of DIALECTS) {
  describe(`access groups (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ dialect });
    });
    after(() => gw?.close());

    const audits = async (action: string) =>
      (await gw.runtime.deps.db.kysely.selectFrom('audit_events').selectAll().where('action', '=', action).execute()).length;

    test('create, get, list with pagination, update; every write audited', async () => {
      const created = await gw.api('POST', '/api/access-groups', { name: 'cheap', description: 'small models', models: ['gpt-4o-mini', 'claude-3-haiku*', 'gpt-4o-mini'] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(created.body.models, ['gpt-4o-mini', 'claude-3-haiku*'], 'duplicates dropped, order kept');
      assert.equal(created.body.description, 'small models');
      const id = created.body.id;

      const got = await gw.api('GET', `/api/access-groups/${id}`);
      assert.equal(got.status, 200);
      assert.equal(got.body.name, 'cheap');
      assert.deepEqual(got.body.used_by, { org: false, teams: 0, team_ids: [], keys: 0, key_ids: [] });

      for (const n of ['b', 'c', 'd']) assert.equal((await gw.api('POST', '/api/access-groups', { name: `group ${n}`, models: [] })).status, 201);
      const page = await gw.api('GET', '/api/access-groups?limit=2&offset=1');
      assert.equal(page.status, 200);
      assert.deepEqual(page.body.data.map((g: any) => g.name), ['group b', 'group c']);
      assert.equal(page.body.limit, 2);
      assert.equal(page.body.offset, 1);

      const patched = await gw.api('PATCH', `/api/access-groups/${id}`, { models: ['gpt-4o-mini'], description: null });
      assert.equal(patched.status, 200);
      assert.deepEqual(patched.body.models, ['gpt-4o-mini']);
      assert.equal(patched.body.description, null);
      assert.equal(patched.body.name, 'cheap', 'a PATCH keeps what it does not name');
      const renamed = await gw.api('PATCH', `/api/access-groups/${id}`, { name: 'budget' });
      assert.equal(renamed.body.name, 'budget');
      assert.equal(await audits('access_group.create'), 4);
      assert.equal(await audits('access_group.update'), 2);
    });

    test('bad input is a 400 naming the field; nothing is written', async () => {
      const existing = (await gw.api('POST', '/api/access-groups', { name: 'validation target', models: ['x'] })).body.id;
      const count = async () => (await gw.runtime.deps.db.kysely.selectFrom('access_groups').select('id').execute()).length;
      const before = await count();
      const cases: Array<[string, string, unknown, string]> = [
        ['POST', '/api/access-groups', { models: [] }, 'name'],
        ['POST', '/api/access-groups', { name: '', models: [] }, 'name'],
        ['POST', '/api/access-groups', { name: 'g' }, 'models'],
        ['POST', '/api/access-groups', { name: 'g', models: 'gpt-4o' }, 'models'],
        ['POST', '/api/access-groups', { name: 'g', models: ['gpt-4o', 'gpt-*-mini'] }, 'models[1]'],
        ['POST', '/api/access-groups', { name: 'g', models: ['gpt-4o', 5] }, 'models[1]'],
        ['POST', '/api/access-groups', { name: 'g', models: [''] }, 'models[0]'],
        ['POST', '/api/access-groups', { name: 'g', models: ['x'.repeat(257)] }, 'models[0]'],
        ['POST', '/api/access-groups', { name: 'g', models: Array.from({ length: 1001 }, (_, i) => `m${i}`) }, 'models'],
        ['POST', '/api/access-groups', { name: 'g', models: [], colour: 'red' }, 'colour'],
        ['PATCH', `/api/access-groups/${existing}`, { models: ['ok', 'bad*bad'] }, 'models[1]'],
        ['PATCH', `/api/access-groups/${existing}`, { name: '   ' }, 'name'],
        ['GET', '/api/access-groups?limit=0', undefined, 'query.limit'],
        ['DELETE', `/api/access-groups/${existing}?force=yes`, undefined, 'query.force'],
      ];
      for (const [method, path, body, field] of cases) {
        const res = await gw.api(method, path, body);
        assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)?.slice(0, 80)} → ${res.status}`);
        assert.equal(res.body.error.param, field, res.body.error.message);
        assert.ok(res.body.error.message.startsWith(field), res.body.error.message);
      }
      assert.equal(await count(), before);
      assert.deepEqual((await gw.api('GET', `/api/access-groups/${existing}`)).body.models, ['x']);
    });

    test('names are unique per organization (409 naming name); another organization may reuse one and cannot see ours', async () => {
      const a = await gw.api('POST', '/api/access-groups', { name: 'premium', models: ['o1'] });
      assert.equal(a.status, 201);
      const dup = await gw.api('POST', '/api/access-groups', { name: 'premium', models: [] });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.code, 'conflict');
      assert.equal(dup.body.error.param, 'name');
      const other = (await gw.api('POST', '/api/access-groups', { name: 'other', models: [] })).body.id;
      const clash = await gw.api('PATCH', `/api/access-groups/${other}`, { name: 'premium' });
      assert.equal(clash.status, 409);
      assert.equal(clash.body.error.param, 'name');

      const tenant = (await gw.api('POST', '/api/orgs', { name: 'Tenant B' })).body.admin_key;
      assert.equal((await gw.api('POST', '/api/access-groups', { name: 'premium', models: ['x'] }, tenant)).status, 201, 'unique per organization only');
      const theirs = (await gw.api('GET', '/api/access-groups?limit=1000', undefined, tenant)).body.data;
      assert.deepEqual(theirs.map((g: any) => g.name), ['premium']);
      assert.equal((await gw.api('GET', `/api/access-groups/${a.body.id}`, undefined, tenant)).status, 404);
      assert.equal((await gw.api('PATCH', `/api/access-groups/${a.body.id}`, { models: [] }, tenant)).status, 404);
      assert.equal((await gw.api('DELETE', `/api/access-groups/${a.body.id}`, undefined, tenant)).status, 404);
      // Nor can another organization name it in its own rules.
      const naming = await gw.api('PUT', '/api/orgs/current/access', { access_groups: [a.body.id] }, tenant);
      assert.equal(naming.status, 400);
      assert.equal(naming.body.error.param, 'access_groups[0]');
      assert.deepEqual((await gw.api('GET', `/api/access-groups/${a.body.id}`)).body.models, ['o1']);
      assert.equal((await gw.api('GET', '/api/access-groups/999999')).status, 404);
      assert.equal((await gw.api('GET', '/api/access-groups/abc')).status, 404);
    });

    test('concurrent creates of one name: exactly one wins, the others get the same 409', async () => {
      const answers = await Promise.all(Array.from({ length: 8 }, () => gw.api('POST', '/api/access-groups', { name: 'raced', models: ['m'] })));
      assert.deepEqual(answers.map((a) => a.status).sort(), [201, 409, 409, 409, 409, 409, 409, 409], JSON.stringify(answers.map((a) => a.body)));
      for (const a of answers.filter((x) => x.status === 409)) assert.equal(a.body.error.param, 'name');

      // The narrowest race, forced: B checks the name while A's insert is not committed yet, so only
      // the unique index can stop B (PostgreSQL; SQLite runs one transaction at a time).
      const db = gw.runtime.deps.db.kysely;
      const at = new Date().toISOString();
      let release!: () => void;
      let inserted!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const aInserted = new Promise<void>((r) => (inserted = r));
      const a = db.transaction().execute(async (trx) => {
        await insertGroup(trx, 1, { name: 'raced twice', models: [] }, at);
        inserted();
        await held;
      });
      await aInserted;
      // A commits a moment later whatever B does (on SQLite, B waits for A's transaction to end).
      setTimeout(release, 200);
      const b = db.transaction().execute((trx) => insertGroup(trx, 1, { name: 'raced twice', models: [] }, at));
      // Handled from now on: B's refusal can arrive before A's commit is seen here, and an
      // unhandled rejection in between fails the test on its own.
      const bRefused = assert.rejects(b, (err: any) => err instanceof ApiError && err.code === 'conflict' && err.param === 'name');
      await a;
      await bRefused;
    });

    test('deleting a group still named by the org, a team or a live key is a 409 saying who; a revoked key does not count', async () => {
      const g = (await gw.api('POST', '/api/access-groups', { name: 'in use', models: ['gpt-4o-mini'] })).body;
      const team = (await gw.api('POST', '/api/teams', { name: 'Group users', access_groups: [g.id] })).body;
      assert.deepEqual(team.access_groups, [g.id]);
      const keys = [];
      for (let i = 0; i < 7; i++) keys.push((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: `k${i}`, access_groups: [g.id] })).body);
      assert.deepEqual(keys[0].access_groups, [g.id]);
      await gw.api('DELETE', `/api/keys/${keys[6].id}`);
      assert.equal((await gw.api('PATCH', '/api/orgs/current/access', { access_groups: [g.id], models: ['gpt-4o'] })).status, 200);

      const refused = await gw.api('DELETE', `/api/access-groups/${g.id}`);
      assert.equal(refused.status, 409);
      assert.equal(refused.body.error.code, 'conflict');
      const msg: string = refused.body.error.message;
      assert.match(msg, /organization rule/);
      assert.match(msg, new RegExp(`1 team \\(${team.id}\\)`));
      assert.match(msg, new RegExp(`6 keys \\(${keys.slice(0, 5).map((k) => k.id).join(', ')}, …\\)`));
      assert.match(msg, /force=true/);
      assert.deepEqual(refused.body.error.used_by, { org: true, teams: 1, team_ids: [team.id], keys: 6, key_ids: keys.slice(0, 6).map((k) => k.id) });
      assert.equal((await gw.api('GET', `/api/access-groups/${g.id}`)).status, 200, 'still there');
      assert.equal(await audits('access_group.delete'), 0);
      assert.deepEqual((await gw.api('GET', `/api/access-groups/${g.id}`)).body.used_by.keys, 6);
      await gw.api('PUT', '/api/orgs/current/access', {});
    });

    test('?force=true removes the group from every rule naming it, in the same transaction, narrowing them', async () => {
      const g = (await gw.api('POST', '/api/access-groups', { name: 'doomed', models: ['gpt-4o-mini'] })).body;
      const keep = (await gw.api('POST', '/api/access-groups', { name: 'kept', models: ['gpt-4o'] })).body;
      assert.equal((await gw.api('PUT', '/api/orgs/current/access', { access_groups: [g.id, keep.id] })).status, 200);
      const team = (await gw.api('POST', '/api/teams', { name: 'Forced', access_groups: [g.id] })).body;
      const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'forced key', access_groups: [g.id], blocked_models: ['x'] })).body;
      const personal = (await gw.api('POST', '/api/keys', { name: 'personal', access_groups: [keep.id, g.id] })).body;
      const before = await gw.openai(key.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(before.object, 'chat.completion', 'the group grants gpt-4o-mini (a warm key)');

      const res = await gw.api('DELETE', `/api/access-groups/${g.id}?force=true`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { id: g.id, deleted: true, removed_from: { org: true, team_ids: [team.id], key_ids: [key.id, personal.id] } });
      assert.equal((await gw.api('GET', `/api/access-groups/${g.id}`)).status, 404);
      assert.deepEqual((await gw.api('GET', '/api/orgs/current/access')).body.access_groups, [keep.id]);
      const t = (await gw.api('GET', `/api/teams/${team.id}`)).body;
      assert.deepEqual(t.access_groups, [], 'still restricted: to nothing now, never back to inherit');
      const k = (await gw.api('GET', `/api/keys/${key.id}`)).body;
      assert.deepEqual(k.access_groups, []);
      assert.deepEqual(k.blocked_models, ['x'], 'the rest of the rule is untouched');
      assert.deepEqual((await gw.api('GET', `/api/keys/${personal.id}`)).body.access_groups, [keep.id]);
      assert.equal(await audits('access_group.delete'), 1);

      // The warm key sees it at once: the group's models are gone from its team and its own rule.
      await assert.rejects(gw.openai(key.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }), (err: any) => err.status === 403 && err.code === 'model_not_allowed');
      const ok = await gw.openai(personal.key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(ok.object, 'chat.completion');
      await gw.api('PUT', '/api/orgs/current/access', {});

      // A group named by nobody is deleted without force.
      const free = (await gw.api('POST', '/api/access-groups', { name: 'unused', models: [] })).body;
      assert.equal((await gw.api('DELETE', `/api/access-groups/${free.id}`)).status, 200);
    });

    test('a deleted team no longer holds a group', async () => {
      const g = (await gw.api('POST', '/api/access-groups', { name: 'team only', models: ['m'] })).body;
      const team = (await gw.api('POST', '/api/teams', { name: 'Short lived', access_groups: [g.id] })).body;
      assert.equal((await gw.api('DELETE', `/api/access-groups/${g.id}`)).status, 409);
      await gw.api('DELETE', `/api/teams/${team.id}`);
      assert.equal((await gw.api('DELETE', `/api/access-groups/${g.id}`)).status, 200);
    });
  });
}
