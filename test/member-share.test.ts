// Seed 001: "a single user cannot exhaust team quota alone (unless they are the only user in the
// team)". A team's member_share caps each member's tpm / tpd at a share of the team's: 'fair'
// among its active members, or a fixed fraction. Over real HTTP with the OpenAI SDK, both dialects.
//
// Every request below asks max_tokens 10: it reserves its bound, 23 tokens (13 for the prompt as
// Tollgate bounds it + 10), and uses 14 (the fake's 4 prompt + 10 output tokens).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { DIALECTS, dialectSkip, TestClock, type Gateway } from './support/gateway.ts';
import { call, startPricedGateway } from './support/priced.ts';

const MODEL = 'gpt-4o-mini';
const ask = (client: OpenAI) => call(client, MODEL, { max_tokens: 10 });

/** The refusal of a bounded request (max_tokens 10), as the SDK reports it. */
async function refusal(client: OpenAI): Promise<any> {
  try {
    await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 });
  } catch (err) {
    return (err as { error: any }).error;
  }
  throw new Error('expected the request to be refused');
}

/** How many bounded requests a key gets through before its first refusal (at most 20). */
async function admitted(client: OpenAI): Promise<number> {
  for (let n = 0; n < 20; n++) if ((await ask(client)) !== 200) return n;
  return 20;
}

for (const dialect of DIALECTS) {
  describe(`member share of a team's token limits (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    const clock = new TestClock(Date.parse('2026-03-28T12:00:00.500Z'));
    before(async () => {
      gw = await startPricedGateway({ dialect, clock });
    });
    after(() => gw?.close());

    /** A team with members, each with a key of their own in it. */
    async function teamOf(name: string, limits: Record<string, unknown>, people: string[]) {
      const team = (await gw.api('POST', '/api/teams', { name, ...limits })).body;
      const members: Array<{ id: number; keyId: number; client: OpenAI }> = [];
      for (const who of people) {
        const user = (await gw.api('POST', '/api/users', { external_id: `${who}@${name}.example`, team_id: team.id })).body;
        const key = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: who, user_id: user.id })).body;
        members.push({ id: user.id, keyId: key.id, client: gw.openai(key.key) });
      }
      return { team, members };
    }

    /** The member layer's tpm window of a key, as GET /api/keys/{id}/limits shows it. */
    async function memberTpm(keyId: number) {
      const layers = (await gw.api('GET', `/api/keys/${keyId}/limits`)).body.layers;
      return layers.find((l: { level: string }) => l.level === 'member')?.windows.tpm;
    }

    test('fair, two members: one is refused at half the team TPM while the other still gets through', async () => {
      const { team, members: [alice, bob] } = await teamOf('fair-two', { tpm_limit: 120, member_share: 'fair' }, ['alice', 'bob']);
      assert.equal((await gw.api('GET', `/api/teams/${team.id}/limits`)).body.policy.member_share, 'fair');
      // Alice: 0+23, 14+23, 28+23 fit in 60; 42+23 does not — with only 42 of the team's 120 used.
      assert.equal(await admitted(alice!.client), 3);
      const refused = await refusal(alice!.client);
      assert.equal(refused.code, 'rate_limit_exceeded');
      assert.equal(refused.level, 'member');
      assert.equal(refused.window, 'tpm');
      assert.equal(refused.limit, 60);
      assert.deepEqual(refused.member_share, { of: 'fair', fraction: 0.5, team_limit: 120, members: 2 });
      assert.match(refused.message, /share of the team's 120 \(divided fairly among its 2 active members\)/);
      // Bob still gets his half; then he too stops at it, and the team total stays within its limit.
      assert.equal(await admitted(bob!.client), 3);
      assert.equal((await refusal(bob!.client)).level, 'member');
      const teamTpm = (await gw.api('GET', `/api/teams/${team.id}/limits`)).body.windows.tpm;
      assert.equal(teamTpm.used, 84);
      clock.advance(120_000);
    });

    test('fair, three members: a third of the team TPM each; joining and deactivation move the share at once', async () => {
      const { team, members: [alice, bob] } = await teamOf('fair-three', { tpm_limit: 120, member_share: 'fair' }, ['alice', 'bob']);
      assert.equal((await memberTpm(alice!.keyId)).limit, 60);
      const carol = (await gw.api('POST', '/api/users', { external_id: 'carol@fair-three.example' })).body;
      assert.equal((await gw.api('PUT', `/api/teams/${team.id}/members/${carol.id}`, {})).status, 200);
      const carolClient = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'carol', user_id: carol.id })).body.key);
      const window = await memberTpm(alice!.keyId);
      assert.equal(window.limit, 40, 'a third of 120 once carol joined');
      assert.deepEqual(window.member_share, { of: 'fair', fraction: 1 / 3, team_limit: 120, members: 3 });
      // 0+23, 14+23 fit in 40; 28+23 does not: two requests each, and all three get theirs.
      assert.deepEqual([await admitted(alice!.client), await admitted(bob!.client), await admitted(carolClient)], [2, 2, 2]);
      const refused = await refusal(carolClient);
      assert.equal(refused.level, 'member');
      assert.equal(refused.limit, 40);
      // Carol deactivated: two active members again, alice's share is back to 60 (28+23 fits).
      assert.equal((await gw.api('POST', `/api/users/${carol.id}/deactivate`)).status, 200);
      assert.equal((await memberTpm(alice!.keyId)).limit, 60);
      assert.equal(await ask(alice!.client), 200);
      // Removed from the team instead: bob alone, the whole team limit is his.
      assert.equal((await gw.api('DELETE', `/api/teams/${team.id}/members/${alice!.id}`)).status, 200);
      assert.equal((await memberTpm(bob!.keyId)).limit, 120);
      // A user created straight into the team (seed 001's POST /users with team_id) is a member too.
      assert.equal((await gw.api('POST', '/api/users', { external_id: 'dave@fair-three.example', team_id: team.id })).status, 201);
      assert.equal((await memberTpm(bob!.keyId)).limit, 60);
      clock.advance(120_000);
    });

    test('a fraction caps tpd too; a member\'s own tighter limit wins; the only member gets the whole team', async () => {
      const { members: [dana, eve] } = await teamOf('quarter', { tpm: 1000, tpd: 100, member_share: 0.25 }, ['dana', 'eve']);
      // 25 tokens a day each: 0+23 fits, 14+23 does not.
      assert.equal(await admitted(dana!.client), 1);
      const refused = await refusal(dana!.client);
      assert.equal(refused.window, 'tpd');
      assert.equal(refused.limit, 25);
      assert.deepEqual(refused.member_share, { of: 0.25, fraction: 0.25, team_limit: 100, members: null });
      assert.equal(await admitted(eve!.client), 1);
      const { team: own, members: [fred, gina] } = await teamOf('own-limit', { tpm_limit: 200, member_share: 'fair' }, ['fred', 'gina']);
      assert.equal((await gw.api('PUT', `/api/teams/${own.id}/members/${fred!.id}/limits`, { tpm: 30 })).status, 200);
      const fredTpm = await memberTpm(fred!.keyId);
      assert.equal(fredTpm.limit, 30, 'his own 30 is tighter than his share of 100');
      assert.equal(fredTpm.member_share, undefined);
      assert.equal((await memberTpm(gina!.keyId)).limit, 100);
      const { members: [solo] } = await teamOf('solo', { tpm_limit: 100, member_share: 'fair' }, ['solo']);
      assert.equal((await memberTpm(solo!.keyId)).limit, 100, 'unless they are the only user in the team');
      clock.advance(86_400_000 * 2);
    });

    test('member_share is validated and only a team\'s: each refusal names the field, nothing is written', async () => {
      const bad = async (path: string, method: string, body: unknown, pattern: RegExp) => {
        const res = await gw.api(method, path, body);
        assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.param, 'member_share');
        assert.match(res.body.error.message, pattern);
      };
      await bad('/api/teams', 'POST', { name: 'bad-share', tpm_limit: 10, member_share: 'half' }, /"fair" or a fraction/);
      await bad('/api/teams', 'POST', { name: 'bad-share', tpm_limit: 10, member_share: 1.5 }, /at most 1|"fair" or a fraction/);
      await bad('/api/teams', 'POST', { name: 'bad-share', member_share: 'fair' }, /no token limit to share/);
      assert.equal((await gw.api('GET', '/api/teams', undefined)).body.data.some((t: { name: string }) => t.name === 'bad-share'), false, 'no team was half-created');
      const team = (await gw.api('POST', '/api/teams', { name: 'share-later', rpm: 100 })).body;
      await bad(`/api/teams/${team.id}/limits`, 'PATCH', { member_share: 'fair' }, /no token limit to share/);
      await bad(`/api/teams/${team.id}/keys`, 'POST', { name: 'k', tpm: 10, member_share: 'fair' }, /only a team's limits/);
      await bad('/api/orgs/current/limits', 'PATCH', { tpm: 10, member_share: 0.5 }, /only a team's limits/);
      const set = await gw.api('PATCH', `/api/teams/${team.id}/limits`, { tpd: 1000, member_share: 0.5 });
      assert.equal(set.status, 200);
      assert.equal(set.body.member_share, 0.5);
      assert.equal(set.body.rpm, 100, 'PATCH keeps the rest');
      const cleared = await gw.api('PATCH', `/api/teams/${team.id}/limits`, { member_share: null });
      assert.equal(cleared.body.member_share, null);
    });
  });
}
