// Management keys (docs/people.md#management-keys) on both dialects: org-scoped roles, team scope,
// revocation and rotation taking effect at the next request, views without secrets, the audit
// trail, /v1 refusing them (official openai SDK) and /api refusing inference keys. Then the master
// key: rotated in the database on a running gateway, the old one is refused without a restart.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { signedInUser } from './support/sessions.ts';
import { ADMIN_KEY_PREFIX, displayPrefix, generateKey, hashSecret } from '../src/keys/key-format.ts';
import { rotateMasterKey } from '../src/http/master-key.ts';

const chat = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'hi' }] };

for (const dialect of DIALECTS) {
  describe(`management keys (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    let teamA: number;
    let teamB: number;
    const secrets: string[] = [];
    const db = () => gw.runtime.deps.db.kysely;
    /** A management key made with the master key: its view plus `key`. */
    const mk = async (body: Record<string, unknown>, as?: string) => {
      const res = await gw.api('POST', '/api/management-keys', body, as);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      secrets.push(res.body.key);
      return res.body;
    };

    before(async () => {
      gw = await startGateway({ dialect });
      teamA = (await gw.api('POST', '/api/teams', { name: 'Alpha' })).body.id;
      teamB = (await gw.api('POST', '/api/teams', { name: 'Beta' })).body.id;
    });
    after(() => gw?.close());

    test('create: an sk-tgm- secret shown once, hashed at rest; the view has scope, role, creator', async () => {
      const k = await mk({ name: 'terraform', description: 'infra pipeline', role: 'admin' });
      assert.match(k.key, /^sk-tgm-[0-9A-Za-z]{38}$/);
      assert.equal(k.key_prefix, displayPrefix(k.key));
      assert.deepEqual(
        { name: k.name, description: k.description, role: k.role, scope: k.scope, team_id: k.team_id, status: k.status, legacy: k.legacy, created_by: k.created_by, revoked_at: k.revoked_at, expires_at: k.expires_at },
        { name: 'terraform', description: 'infra pipeline', role: 'admin', scope: 'org', team_id: null, status: 'active', legacy: false, created_by: 'admin_key:master', revoked_at: null, expires_at: null },
      );
      const row = await db().selectFrom('admin_keys').selectAll().where('id', '=', k.id).executeTakeFirstOrThrow();
      assert.equal(row.key_hash, hashSecret(k.key));
      assert.ok(!JSON.stringify(row).includes(k.key));
      // It works as an admin credential, and its use is recorded.
      assert.equal((await gw.api('POST', '/api/teams', { name: 'Made by terraform' }, k.key)).status, 201);
      const used = await gw.api('GET', `/api/management-keys/${k.id}`);
      assert.ok(used.body.last_used_at);
      assert.equal((await gw.api('GET', '/api/teams', undefined, k.key)).status, 200);
    });

    test('bad input is 400 naming the field, and nothing is written', async () => {
      const before = (await db().selectFrom('admin_keys').select('id').execute()).length;
      for (const [body, param] of [
        [{ role: 'admin' }, 'name'],
        [{ name: 'x' }, 'role'],
        [{ name: 'x', role: 'root' }, 'role'],
        [{ name: 'x', role: 'owner' }, 'role'],
        [{ name: 'x', role: 'admin', team_id: teamA }, 'role'],
        [{ name: 'x', role: 'viewer', team_id: teamA }, 'role'],
        [{ name: 'x', role: 'owner', team_id: 999999 }, 'team_id'],
        [{ name: 'x', role: 'admin', expires_at: '2001-01-01T00:00:00Z' }, 'expires_at'],
        [{ name: 'x', role: 'admin', expires_at: 'soon' }, 'expires_at'],
        [{ name: 'x', role: 'admin', key_hash: 'abc' }, 'key_hash'],
      ] as const) {
        const res = await gw.api('POST', '/api/management-keys', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.param, param, `${JSON.stringify(body)}: ${res.body.error.message}`);
      }
      assert.equal((await db().selectFrom('admin_keys').select('id').execute()).length, before);
      const k = await mk({ name: 'patched', role: 'member' });
      for (const [body, param] of [[{ role: 'admin' }, 'role'], [{ team_id: teamA }, 'team_id'], [{ name: '' }, 'name']] as const) {
        const res = await gw.api('PATCH', `/api/management-keys/${k.id}`, body);
        assert.equal(res.status, 400);
        assert.equal(res.body.error.param, param);
      }
      assert.equal((await gw.api('GET', '/api/management-keys/999999')).status, 404);
      assert.equal((await gw.api('GET', '/api/management-keys/abc')).status, 404);
    });

    test('an org-scoped viewer key reads and cannot write', async () => {
      const viewer = await mk({ name: 'finance export', role: 'viewer' });
      for (const path of ['/api/teams', `/api/teams/${teamA}`, '/api/users', '/api/keys', '/api/management-keys']) {
        assert.equal((await gw.api('GET', path, undefined, viewer.key)).status, 200, path);
      }
      for (const [method, path, body] of [
        ['POST', '/api/teams', { name: 'nope' }],
        ['POST', '/api/users', { external_id: 'nope' }],
        ['POST', '/api/management-keys', { name: 'escalate', role: 'admin' }],
        ['POST', `/api/management-keys/${viewer.id}/rotate`, {}],
        ['DELETE', `/api/management-keys/${viewer.id}`, undefined],
        ['PATCH', `/api/teams/${teamA}`, { name: 'renamed' }],
      ] as const) {
        const res = await gw.api(method, path, body, viewer.key);
        assert.equal(res.status, 403, `${method} ${path}`);
        assert.equal(res.body.error.code, 'forbidden');
      }
      assert.equal((await gw.api('GET', `/api/management-keys/${viewer.id}`)).body.status, 'active');
    });

    test('a team-scoped owner key manages its team and gets 403 on another team', async () => {
      const owner = await mk({ name: 'alpha ci', role: 'owner', team_id: teamA });
      assert.deepEqual([owner.scope, owner.team_id, owner.role], ['team', teamA, 'owner']);
      // Its own team: service accounts, keys, its team's management keys.
      const sa = await gw.api('POST', `/api/teams/${teamA}/service-accounts`, { name: 'alpha deployer' }, owner.key);
      assert.equal(sa.status, 201, JSON.stringify(sa.body));
      const key = await gw.api('POST', `/api/teams/${teamA}/keys`, { name: 'deploy key', service_account_id: sa.body.id }, owner.key);
      assert.equal(key.status, 201, JSON.stringify(key.body));
      assert.equal((await gw.openai(key.body.key).chat.completions.create(chat)).object, 'chat.completion');
      assert.equal((await gw.api('GET', `/api/teams/${teamA}`, undefined, owner.key)).status, 200);
      const member = await mk({ name: 'alpha reader', role: 'member', team_id: teamA }, owner.key);
      assert.equal(member.created_by, `admin_key:${owner.id}`);
      assert.equal((await gw.api('PATCH', `/api/management-keys/${member.id}`, { description: 'reads alpha' }, owner.key)).status, 200);
      // Another team, and the organization: 403.
      for (const [method, path, body] of [
        ['GET', `/api/teams/${teamB}`, undefined],
        ['POST', `/api/teams/${teamB}/keys`, { name: 'x' }],
        ['POST', `/api/teams/${teamB}/service-accounts`, { name: 'x' }],
        ['POST', '/api/management-keys', { name: 'x', role: 'owner', team_id: teamB }],
        ['POST', '/api/management-keys', { name: 'x', role: 'admin' }],
        ['POST', '/api/teams', { name: 'x' }],
        ['POST', '/api/users', { external_id: 'x' }],
      ] as const) {
        const res = await gw.api(method, path, body, owner.key);
        assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.body)}`);
      }
      const other = await mk({ name: 'beta ci', role: 'owner', team_id: teamB });
      const org = await mk({ name: 'org member key', role: 'member' });
      for (const id of [other.id, org.id]) {
        for (const [method, path] of [['GET', `/api/management-keys/${id}`], ['DELETE', `/api/management-keys/${id}`], ['POST', `/api/management-keys/${id}/rotate`]] as const) {
          assert.equal((await gw.api(method, path, method === 'POST' ? {} : undefined, owner.key)).status, 403, `${method} ${path}`);
        }
      }
      // Its listing holds its team's keys only.
      const listed = (await gw.api('GET', '/api/management-keys?limit=1000', undefined, owner.key)).body.data;
      assert.ok(listed.length >= 2);
      assert.ok(listed.every((k: any) => k.team_id === teamA), JSON.stringify(listed.map((k: any) => [k.id, k.team_id])));
      // A team-scoped member key reads its team but manages nothing.
      assert.equal((await gw.api('GET', `/api/teams/${teamA}`, undefined, member.key)).status, 200);
      assert.equal((await gw.api('GET', '/api/management-keys', undefined, member.key)).status, 403);
      assert.equal((await gw.api('POST', `/api/teams/${teamA}/service-accounts`, { name: 'x' }, member.key)).status, 403);
    });

    test("a signed-in team owner sees and manages their team's keys, not the organization's", async () => {
      const person = await signedInUser(gw, 'alpha-owner', 'member', { [teamA]: 'owner' });
      const made = await person.api('POST', '/api/management-keys', { name: 'owner made', role: 'member', team_id: teamA });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      assert.equal(made.body.created_by, `user:${person.userId}`);
      const listed = (await person.api('GET', '/api/management-keys?limit=1000')).body.data;
      assert.ok(listed.some((k: any) => k.id === made.body.id));
      assert.ok(listed.every((k: any) => k.team_id === teamA));
      assert.equal((await person.api('POST', '/api/management-keys', { name: 'x', role: 'viewer' })).status, 403);
      const byCreator = (await gw.api('GET', `/api/management-keys?created_by=user:${person.userId}`)).body.data;
      assert.deepEqual(byCreator.map((k: any) => k.id), [made.body.id]);
      // A plain member may not list them at all.
      const plain = await signedInUser(gw, 'alpha-member', 'member', { [teamA]: 'member' });
      assert.equal((await plain.api('GET', '/api/management-keys')).status, 403);
    });

    test('revoke: the next request is 401; a key allowed to revoke may revoke itself; repeating is harmless', async () => {
      const k = await mk({ name: 'short lived', role: 'admin' });
      assert.equal((await gw.api('GET', '/api/teams', undefined, k.key)).status, 200);
      const res = await gw.api('DELETE', `/api/management-keys/${k.id}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'revoked');
      assert.ok(res.body.revoked_at);
      const refused = await gw.api('GET', '/api/teams', undefined, k.key);
      assert.equal(refused.status, 401);
      assert.equal(refused.body.error.code, 'invalid_api_key');
      assert.equal((await gw.api('DELETE', `/api/management-keys/${k.id}`)).body.revoked_at, res.body.revoked_at, 'a second revoke changes nothing');
      assert.equal((await gw.api('PATCH', `/api/management-keys/${k.id}`, { name: 'x' })).status, 409);
      assert.equal((await gw.api('POST', `/api/management-keys/${k.id}/rotate`)).status, 409);
      // Listings leave revoked keys out unless asked.
      assert.ok(!(await gw.api('GET', '/api/management-keys?limit=1000')).body.data.some((x: any) => x.id === k.id));
      assert.ok((await gw.api('GET', '/api/management-keys?limit=1000&include_revoked=true')).body.data.some((x: any) => x.id === k.id));

      const self = await mk({ name: 'self revoking', role: 'owner', team_id: teamB });
      assert.equal((await gw.api('DELETE', `/api/management-keys/${self.id}`, undefined, self.key)).status, 200);
      assert.equal((await gw.api('GET', `/api/teams/${teamB}`, undefined, self.key)).status, 401);
    });

    test("deleting a team revokes the management keys scoped to it", async () => {
      const doomed = (await gw.api('POST', '/api/teams', { name: 'doomed team' })).body.id;
      const k = await mk({ name: 'doomed ci', role: 'owner', team_id: doomed });
      assert.equal((await gw.api('GET', '/api/me', undefined, k.key)).status, 200);
      assert.equal((await gw.api('DELETE', `/api/teams/${doomed}`)).status, 200);
      assert.equal((await gw.api('GET', '/api/me', undefined, k.key)).status, 401, 'refused at the next request');
      assert.equal((await gw.api('GET', `/api/management-keys/${k.id}`)).body.status, 'revoked');
    });

    test('rotate: same id, role and scope; the old secret is refused at once, the new one works', async () => {
      const k = await mk({ name: 'rotating', role: 'owner', team_id: teamA });
      const res = await gw.api('POST', `/api/management-keys/${k.id}/rotate`, undefined, k.key);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.notEqual(res.body.key, k.key);
      assert.match(res.body.key, /^sk-tgm-/);
      assert.deepEqual([res.body.id, res.body.role, res.body.team_id, res.body.name], [k.id, 'owner', teamA, 'rotating']);
      assert.equal(res.body.key_prefix, displayPrefix(res.body.key));
      secrets.push(res.body.key);
      assert.equal((await gw.api('GET', `/api/teams/${teamA}`, undefined, k.key)).status, 401);
      assert.equal((await gw.api('GET', `/api/teams/${teamA}`, undefined, res.body.key)).status, 200);
    });

    test('expiry: an expired key is refused; a past expiry set by PATCH ends it at once', async () => {
      const k = await mk({ name: 'expiring', role: 'admin', expires_at: new Date(Date.now() + 86_400_000).toISOString() });
      assert.equal((await gw.api('GET', '/api/teams', undefined, k.key)).status, 200);
      const res = await gw.api('PATCH', `/api/management-keys/${k.id}`, { expires_at: '2020-01-01T00:00:00Z' });
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 'expired');
      const refused = await gw.api('GET', '/api/teams', undefined, k.key);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.code, 'key_expired');
    });

    test('a management key cannot call /v1 (openai SDK: 401); an inference key cannot call /api (403)', async () => {
      const k = await mk({ name: 'not for inference', role: 'admin' });
      await assert.rejects(gw.openai(k.key).chat.completions.create(chat), (err: any) => err.status === 401);
      await assert.rejects(gw.openai(k.key).models.list(), (err: any) => err.status === 401);
      const inference = (await gw.api('POST', '/api/keys', { name: 'inference only' })).body;
      for (const [method, path, body] of [['GET', '/api/management-keys', undefined], ['POST', '/api/management-keys', { name: 'x', role: 'admin' }], ['POST', `/api/users/1/deactivate`, undefined]] as const) {
        const res = await gw.api(method, path, body, inference.key);
        assert.equal(res.status, 403, path);
        assert.equal(res.body.error.code, 'forbidden');
      }
    });

    test('legacy sk-tga- org admin keys are listed and revocable; new organizations get sk-tgm- admin keys', async () => {
      const legacy = generateKey(ADMIN_KEY_PREFIX);
      const row = await db().insertInto('admin_keys').values({ org_id: 1, name: 'old admin key', key_prefix: displayPrefix(legacy), key_hash: hashSecret(legacy), role: 'admin', created_at: new Date().toISOString(), revoked_at: null, team_id: null, description: null, expires_at: null, last_used_at: null, created_by_actor: null }).returning('id').executeTakeFirstOrThrow();
      assert.equal((await gw.api('GET', '/api/teams', undefined, legacy)).status, 200);
      const view = (await gw.api('GET', `/api/management-keys/${row.id}`)).body;
      assert.deepEqual([view.legacy, view.role, view.scope, view.created_by], [true, 'admin', 'org', null]);
      assert.equal((await gw.api('DELETE', `/api/management-keys/${row.id}`)).status, 200);
      assert.equal((await gw.api('GET', '/api/teams', undefined, legacy)).status, 401);

      const org = (await gw.api('POST', '/api/orgs', { name: 'Newco' })).body;
      assert.match(org.admin_key, /^sk-tgm-/);
      secrets.push(org.admin_key);
      const theirs = (await gw.api('GET', '/api/management-keys', undefined, org.admin_key)).body.data;
      assert.deepEqual(theirs.map((k: any) => [k.name, k.role, k.scope, k.legacy]), [['initial', 'admin', 'org', false]]);
      const extra = await gw.api('POST', `/api/orgs/${org.id}/admin-keys`, { name: 'second' });
      assert.equal(extra.status, 201);
      assert.match(extra.body.key, /^sk-tgm-/);
      secrets.push(extra.body.key);
      assert.equal((await gw.api('GET', '/api/management-keys', undefined, extra.body.key)).body.data.length, 2);
      assert.ok(!(await gw.api('GET', '/api/management-keys?limit=1000')).body.data.some((k: any) => k.name === 'second'), "another organization's keys are not listed");
    });

    test('listings, views and the audit trail never hold a secret or a hash; every change is audited', async () => {
      const listing = (await gw.api('GET', '/api/management-keys?limit=1000&include_revoked=true')).body;
      const hashes = (await db().selectFrom('admin_keys').select('key_hash').execute()).map((r) => r.key_hash);
      const audit = await db().selectFrom('audit_events').selectAll().where('target_type', '=', 'management_key').execute();
      const text = JSON.stringify([listing, audit]);
      for (const s of [...secrets, ...hashes]) assert.ok(!text.includes(s), `leaked ${s.slice(0, 10)}`);
      assert.ok(listing.data.every((k: any) => !('key' in k) && !('key_hash' in k)));
      const actions = new Set(audit.map((e) => e.action));
      for (const a of ['management_key.create', 'management_key.update', 'management_key.rotate', 'management_key.revoke']) assert.ok(actions.has(a), a);

      // Cursor paging walks every key once.
      const all = listing.data.map((k: any) => k.id);
      const walked: number[] = [];
      let after: number | null = null;
      for (let i = 0; i < 100; i++) {
        const page: any = (await gw.api('GET', `/api/management-keys?include_revoked=true&limit=3${after === null ? '' : `&after=${after}`}`)).body;
        walked.push(...page.data.map((k: any) => k.id));
        after = page.next_after;
        if (after === null) break;
      }
      assert.deepEqual(walked, all);
      assert.deepEqual((await gw.api('GET', `/api/management-keys?team_id=${teamA}&role=owner`)).body.data.map((k: any) => [k.team_id, k.role]).filter(([t]: any) => t !== teamA), []);
      assert.equal((await gw.api('GET', '/api/management-keys?role=root')).body.error.param, 'query.role');
    });
  });

  describe(`master key rotation without a restart (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    before(async () => {
      // No TOLLGATE_ADMIN_KEY: the master key is the stored hash, as `tollgate admin rotate-master` changes it.
      gw = await startGateway({ dialect, env: { TOLLGATE_ADMIN_KEY: '' } });
    });
    after(() => gw?.close());

    test('rotated in the database: the old key is refused within seconds, the new one works', async () => {
      const old = gw.runtime.boot.generatedAdminKey;
      assert.ok(old, 'a master key was generated at start');
      assert.equal((await gw.api('GET', '/api/orgs', undefined, old)).status, 200);
      const fresh = await rotateMasterKey(gw.runtime.deps.db.kysely);
      // Each replica re-reads the hash every 5 s; poll (bounded) rather than time it.
      const deadline = Date.now() + 30_000;
      let oldStatus = 200;
      let freshStatus = 401;
      while (Date.now() < deadline && (oldStatus !== 401 || freshStatus !== 200)) {
        await sleep(250);
        oldStatus = (await gw.api('GET', '/api/orgs', undefined, old)).status;
        freshStatus = (await gw.api('GET', '/api/orgs', undefined, fresh)).status;
      }
      assert.equal(oldStatus, 401, 'the old master key is refused');
      assert.equal(freshStatus, 200, 'the new master key works');
      assert.equal((await gw.api('POST', '/api/teams', { name: 'after rotation' }, fresh)).status, 201);
    });
  });
}
