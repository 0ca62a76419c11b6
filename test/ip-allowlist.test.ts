// IP allowlists on the running server, both dialects: a key's, its team's and the org's (a request
// must pass every one), IPv4 and IPv6, refused with 403 ip_not_allowed before anything reaches the
// upstream and logged with the client address. IPv6 clients are tested both as the socket peer
// (a gateway listening on ::1) and the way they arrive behind a proxy: in X-Forwarded-For, which is
// read only under TOLLGATE_TRUST_PROXY (a hop count, or the proxies' CIDRs) and never by default.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, type Gateway } from './support/gateway.ts';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.ts';
import { UPSTREAM_KEY } from './support/gateway.ts';

interface Answer { status: number; code: string | undefined; message: string }

async function chat(gw: Gateway, secret: string, forwarded?: string): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
  if (forwarded !== undefined) headers['x-forwarded-for'] = forwarded;
  const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }) });
  const body = (await res.json()) as any;
  return { status: res.status, code: body.error?.code, message: body.error?.message ?? '' };
}

async function models(gw: Gateway, secret: string, forwarded?: string): Promise<number> {
  const headers: Record<string, string> = { authorization: `Bearer ${secret}` };
  if (forwarded !== undefined) headers['x-forwarded-for'] = forwarded;
  const res = await fetch(`${gw.url}/v1/models`, { headers });
  await res.arrayBuffer();
  return res.status;
}

/** A team and a key in it with these allowlists; the key's secret and ids. */
async function keyWith(gw: Gateway, team: string[] | undefined, key: string[] | undefined) {
  const t = await gw.api('POST', '/api/teams', { name: `ip team ${Math.random()}`, ...(team ? { ip_allowlist: team } : {}) });
  assert.equal(t.status, 201, JSON.stringify(t.body));
  const k = await gw.api('POST', `/api/teams/${t.body.id}/keys`, { name: 'ip key', ...(key ? { ip_allowlist: key } : {}) });
  assert.equal(k.status, 201, JSON.stringify(k.body));
  return { secret: k.body.key as string, keyId: k.body.id as number, teamId: t.body.id as number, view: k.body };
}

/** The last logged request of a key, read from the table (the API's log view does not show addresses). */
async function lastLog(gw: Gateway, keyId: number) {
  await gw.flush();
  return gw.runtime.deps.db.kysely.selectFrom('request_logs').select(['status_code', 'error_code', 'client_ip']).where('key_id', '=', keyId).orderBy('id', 'desc').executeTakeFirstOrThrow();
}

for (const dialect of DIALECTS) {
  describe(`IP allowlists (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let fake: FakeUpstream;
    const upstreamCalls = () => fake.requests.filter((r) => r.method === 'POST').length;
    before(async () => {
      fake = await startFakeUpstream({ requireAuth: UPSTREAM_KEY });
    });
    after(() => fake?.close());

    describe('no trusted proxy (the default)', () => {
      let gw: Gateway;
      before(async () => {
        gw = await startGateway({ dialect, fake });
      });
      after(() => gw?.close());

      test('a key allowlist: the peer address inside passes, outside is 403 ip_not_allowed, logged with the address, nothing upstream', async () => {
        const inside = await keyWith(gw, undefined, ['127.0.0.0/8']);
        assert.equal((await chat(gw, inside.secret)).status, 200);
        assert.equal(await models(gw, inside.secret), 200);

        const outside = await keyWith(gw, undefined, ['10.0.0.0/8', '2001:db8::/32']);
        const before = upstreamCalls();
        const refused = await chat(gw, outside.secret);
        assert.deepEqual([refused.status, refused.code], [403, 'ip_not_allowed']);
        assert.match(refused.message, /127\.0\.0\.1.*key's IP allowlist/);
        assert.equal(upstreamCalls(), before, 'nothing reaches the upstream');
        assert.deepEqual(await lastLog(gw, outside.keyId), { status_code: 403, error_code: 'ip_not_allowed', client_ip: '127.0.0.1' });
        assert.equal(await models(gw, outside.secret), 403, '/v1/models is refused too');
        const team = (await gw.api('GET', `/api/teams/${outside.teamId}/logs`)).body.data;
        assert.equal(team[0].error_code, 'ip_not_allowed', "the refusal is in the team's logs");
      });

      test('a client-supplied X-Forwarded-For cannot get in', async () => {
        const k = await keyWith(gw, undefined, ['203.0.113.0/24', '2001:db8::/32']);
        for (const spoof of ['203.0.113.9', '2001:db8::5', '127.0.0.1, 203.0.113.9']) {
          const res = await chat(gw, k.secret, spoof);
          assert.deepEqual([res.status, res.code], [403, 'ip_not_allowed'], spoof);
          assert.equal(await models(gw, k.secret, spoof), 403, spoof);
        }
        assert.equal((await lastLog(gw, k.keyId)).client_ip, '127.0.0.1', 'logged with the real peer');
      });

      test('team and key allowlists: a request must pass both; the message names the level', async () => {
        const both = await keyWith(gw, ['127.0.0.1/32'], ['127.0.0.0/8']);
        assert.equal((await chat(gw, both.secret)).status, 200);
        const teamRefuses = await keyWith(gw, ['10.0.0.0/8'], ['127.0.0.1']);
        const a = await chat(gw, teamRefuses.secret);
        assert.deepEqual([a.status, a.code], [403, 'ip_not_allowed']);
        assert.match(a.message, /team's IP allowlist/);
        const keyRefuses = await keyWith(gw, ['127.0.0.0/8'], ['192.168.0.0/16']);
        const b = await chat(gw, keyRefuses.secret);
        assert.deepEqual([b.status, b.code], [403, 'ip_not_allowed']);
        assert.match(b.message, /key's IP allowlist/);
      });

      test('the org allowlist applies to every key; changes reach a warm key at once', async () => {
        const k = await keyWith(gw, undefined, undefined);
        assert.equal((await chat(gw, k.secret)).status, 200);
        assert.equal((await gw.api('PATCH', '/api/orgs/current/access', { ip_allowlist: ['10.0.0.0/8'] })).status, 200);
        const res = await chat(gw, k.secret);
        assert.deepEqual([res.status, res.code], [403, 'ip_not_allowed']);
        assert.match(res.message, /org's IP allowlist/);
        assert.equal((await gw.api('PATCH', '/api/orgs/current/access', { ip_allowlist: [] })).status, 200);
        assert.equal((await chat(gw, k.secret)).status, 200);
        // The key's own list, then its team's, changed under the warm key.
        assert.equal((await gw.api('PATCH', `/api/keys/${k.keyId}`, { ip_allowlist: ['::1'] })).status, 200);
        assert.equal((await chat(gw, k.secret)).status, 403);
        assert.equal((await gw.api('PATCH', `/api/keys/${k.keyId}`, { ip_allowlist: null })).status, 200);
        assert.equal((await chat(gw, k.secret)).status, 200);
        assert.equal((await gw.api('PATCH', `/api/teams/${k.teamId}`, { ip_allowlist: ['192.0.2.0/24'] })).status, 200);
        assert.equal((await chat(gw, k.secret)).status, 403);
      });

      test('validated on write (IPv4 and IPv6), 400 naming the entry; stored in canonical form', async () => {
        const k = await keyWith(gw, undefined, ['127.0.0.1', '2001:DB8:0:0::/32', '10.9.8.7/8']);
        assert.deepEqual(k.view.ip_allowlist, ['127.0.0.1/32', '2001:db8::/32', '10.0.0.0/8']);
        const team = (await gw.api('POST', '/api/teams', { name: 'v6 team', ip_allowlist: ['fd00::/8'] })).body;
        assert.deepEqual(team.ip_allowlist, ['fd00::/8']);
        const bad: Array<[string, string, unknown, string]> = [
          ['POST', '/api/keys', { name: 'x', ip_allowlist: ['10.0.0.0/8', '10.0.0.0/33'] }, 'ip_allowlist[1]'],
          ['POST', '/api/keys', { name: 'x', ip_allowlist: ['2001:db8::/129'] }, 'ip_allowlist[0]'],
          ['POST', '/api/keys', { name: 'x', ip_allowlist: ['2001:db8:::1'] }, 'ip_allowlist[0]'],
          ['POST', '/api/keys', { name: 'x', ip_allowlist: ['office'] }, 'ip_allowlist[0]'],
          ['POST', '/api/keys', { name: 'x', ip_allowlist: [42] }, 'ip_allowlist[0]'],
          ['POST', '/api/keys', { name: 'x', ip_allowlist: '10.0.0.0/8' }, 'ip_allowlist'],
          ['PATCH', `/api/keys/${k.keyId}`, { ip_allowlist: ['256.0.0.1'] }, 'ip_allowlist[0]'],
          ['POST', '/api/teams', { name: 'x', ip_allowlist: ['1.2.3.4/-1'] }, 'ip_allowlist[0]'],
          ['PATCH', '/api/orgs/current/access', { ip_allowlist: ['fe80::/10', 'nope'] }, 'ip_allowlist[1]'],
        ];
        for (const [method, path, body, field] of bad) {
          const res = await gw.api(method, path, body);
          assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)}`);
          assert.equal(res.body.error.param, field, res.body.error.message);
        }
        assert.deepEqual((await gw.api('GET', `/api/keys/${k.keyId}`)).body.ip_allowlist, ['127.0.0.1/32', '2001:db8::/32', '10.0.0.0/8']);
        assert.deepEqual((await gw.api('GET', '/api/orgs/current/access')).body.ip_allowlist, []);
      });
    });

    describe('an IPv6 client as the socket peer (listening on ::1)', () => {
      let gw: Gateway;
      before(async () => {
        gw = await startGateway({ dialect, fake, host: '::1' });
      });
      after(() => gw?.close());

      test('::1 passes an IPv6 range and is refused by an IPv4-only list', async () => {
        const v6 = await keyWith(gw, ['::1/128'], ['::/64']);
        assert.equal((await chat(gw, v6.secret)).status, 200);
        assert.equal((await lastLog(gw, v6.keyId)).client_ip, '::1');
        assert.equal(await models(gw, v6.secret), 200);
        const v4 = await keyWith(gw, undefined, ['127.0.0.0/8']);
        const res = await chat(gw, v4.secret);
        assert.deepEqual([res.status, res.code], [403, 'ip_not_allowed']);
        assert.match(res.message, /Requests from ::1 /);
        assert.deepEqual(await lastLog(gw, v4.keyId), { status_code: 403, error_code: 'ip_not_allowed', client_ip: '::1' });
        assert.equal(await models(gw, v4.secret), 403);
      });
    });

    describe('TOLLGATE_TRUST_PROXY=1 (one proxy hop)', () => {
      let gw: Gateway;
      before(async () => {
        gw = await startGateway({ dialect, fake, env: { TOLLGATE_TRUST_PROXY: '1' } });
      });
      after(() => gw?.close());

      test('IPv6 and IPv4 clients through the proxy; only what the trusted hop appended counts', async () => {
        const k = await keyWith(gw, ['2001:db8::/32', '203.0.113.0/24'], ['2001:db8:1::/48', '203.0.113.9/32']);
        assert.equal((await chat(gw, k.secret, '2001:db8:1::5')).status, 200);
        assert.equal((await lastLog(gw, k.keyId)).client_ip, '2001:db8:1::5');
        assert.equal(await models(gw, k.secret, '2001:db8:1::5'), 200, '/v1/models reads the same address');
        assert.equal((await chat(gw, k.secret, '203.0.113.9')).status, 200);

        const before = upstreamCalls();
        const outsideKey = await chat(gw, k.secret, '2001:db8:2::5');
        assert.deepEqual([outsideKey.status, outsideKey.code], [403, 'ip_not_allowed'], 'inside the team range, outside the key range');
        assert.match(outsideKey.message, /2001:db8:2::5.*key's/);
        assert.deepEqual(await lastLog(gw, k.keyId), { status_code: 403, error_code: 'ip_not_allowed', client_ip: '2001:db8:2::5' });
        const outsideTeam = await chat(gw, k.secret, '2001:db9::1');
        assert.deepEqual([outsideTeam.status, outsideTeam.code], [403, 'ip_not_allowed']);
        assert.match(outsideTeam.message, /team's/);
        assert.equal(upstreamCalls(), before);

        // A client writing an allowed address in front of what the proxy appended gains nothing.
        const spoof = await chat(gw, k.secret, '2001:db8:1::5, 198.51.100.7');
        assert.equal(spoof.status, 403);
        assert.equal((await lastLog(gw, k.keyId)).client_ip, '198.51.100.7');
        assert.equal(await models(gw, k.secret, '2001:db8:1::5, 198.51.100.7'), 403);
        // Without the header, the peer itself (127.0.0.1) is the client: outside both lists.
        assert.equal((await chat(gw, k.secret)).status, 403);
      });

      // The Fastify routes (/v1/models, /v1/key, /api) resolve the address with the same function as
      // the fast lane: a non-address entry ends the walk at the last trusted hop on both.
      test('/v1/models judges the same address as the completion endpoints when X-Forwarded-For holds a non-address', async () => {
        const k = await keyWith(gw, undefined, ['127.0.0.0/8']);
        for (const forwarded of ['not-an-ip', '127.0.0.9, not-an-ip']) {
          assert.equal((await chat(gw, k.secret, forwarded)).status, 200, `chat, ${forwarded}`);
          assert.equal(await models(gw, k.secret, forwarded), 200, `models, ${forwarded}`);
        }
      });
    });

    describe('TOLLGATE_TRUST_PROXY=2 (two hops)', () => {
      let gw: Gateway;
      before(async () => {
        gw = await startGateway({ dialect, fake, env: { TOLLGATE_TRUST_PROXY: '2' } });
      });
      after(() => gw?.close());

      test('the second address from the right is the client', async () => {
        const k = await keyWith(gw, undefined, ['2001:db8::/32']);
        assert.equal((await chat(gw, k.secret, '2001:db8::5, 10.0.0.2')).status, 200);
        assert.equal((await chat(gw, k.secret, '2001:db8::5, 198.51.100.1, 10.0.0.2')).status, 403, 'a third entry is the client\'s own word');
        assert.equal((await lastLog(gw, k.keyId)).client_ip, '198.51.100.1');
      });
    });

    describe('TOLLGATE_TRUST_PROXY as proxy CIDRs', () => {
      let trusted: Gateway;
      let untrusted: Gateway;
      before(async () => {
        trusted = await startGateway({ dialect, fake, env: { TOLLGATE_TRUST_PROXY: '127.0.0.0/8,fd00::/8' } });
        untrusted = await startGateway({ dialect, fake, env: { TOLLGATE_TRUST_PROXY: '10.0.0.0/8' } });
      });
      after(async () => {
        await trusted?.close();
        await untrusted?.close();
      });

      test('from a trusted proxy: walk the header right to left through trusted hops', async () => {
        const k = await keyWith(trusted, undefined, ['2001:db8::/32']);
        assert.equal((await chat(trusted, k.secret, '2001:db8::5')).status, 200);
        assert.equal((await chat(trusted, k.secret, '198.51.100.1, 2001:db8::5, fd00::1')).status, 200, 'an inner proxy in fd00::/8 is skipped');
        assert.equal((await lastLog(trusted, k.keyId)).client_ip, '2001:db8::5');
        const res = await chat(trusted, k.secret, '2001:db8::5, 198.51.100.1');
        assert.deepEqual([res.status, res.code], [403, 'ip_not_allowed'], 'the first untrusted hop from the right is the client');
        assert.equal((await lastLog(trusted, k.keyId)).client_ip, '198.51.100.1');
      });

      test('from a peer outside the trusted ranges: the header is ignored', async () => {
        const k = await keyWith(untrusted, undefined, ['2001:db8::/32']);
        const res = await chat(untrusted, k.secret, '2001:db8::5');
        assert.deepEqual([res.status, res.code], [403, 'ip_not_allowed']);
        assert.equal((await lastLog(untrusted, k.keyId)).client_ip, '127.0.0.1');
        assert.equal(await models(untrusted, k.secret, '2001:db8::5'), 403);
      });
    });
  });
}
