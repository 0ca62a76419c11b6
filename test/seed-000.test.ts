// Seed 000 ("Team Key Isolation") as written: the curl walkthrough, with only the host changed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, dialectSkip, startGateway, ADMIN_KEY, type Gateway } from './support/gateway.ts';

for (const dialect of DIALECTS) {
  describe(`seed 000 walkthrough (${dialect})`, { skip: dialectSkip(dialect) }, () => {
    let gw: Gateway;
    before(async () => {
      gw = await startGateway({ dialect });
    });
    after(() => gw?.close());

    const curl = async (method: string, path: string, opts: { admin?: boolean; bearer?: string; body?: unknown } = {}) => {
      const headers: Record<string, string> = {};
      if (opts.admin) headers['X-Admin-Key'] = ADMIN_KEY;
      if (opts.bearer) headers.Authorization = `Bearer ${opts.bearer}`;
      if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await fetch(gw.url + path, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
      return { status: res.status, json: (await res.json()) as any };
    };

    test('create team → key → chat → spend → logs → rotate → delete', async () => {
      const team = await curl('POST', '/api/teams', { admin: true, body: { name: 'Frontend', description: 'Frontend web app' } });
      assert.equal(team.status, 201);
      assert.deepEqual(Object.keys(team.json).sort(), ['created_at', 'created_by', 'description', 'id', 'name', 'slug', 'updated_at']);
      assert.equal(team.json.name, 'Frontend');
      assert.equal(team.json.slug, 'frontend');
      assert.equal(team.json.description, 'Frontend web app');
      assert.match(team.json.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
      const teamId = team.json.id;

      const key = await curl('POST', `/api/teams/${teamId}/keys`, { admin: true, body: { name: 'production' } });
      assert.equal(key.status, 201);
      for (const field of ['id', 'user_id', 'team_id', 'key_prefix', 'name', 'scopes', 'key']) assert.ok(field in key.json, field);
      assert.equal(key.json.user_id, 1, 'owned by user 1 by default');
      assert.equal(key.json.team_id, teamId);
      assert.equal(key.json.name, 'production');
      assert.equal(key.json.scopes, '*');
      assert.match(key.json.key, /^sk-tg-[0-9A-Za-z]{38}$/);
      assert.ok(key.json.key.startsWith(key.json.key_prefix.replace('...', '')));
      const secret: string = key.json.key;

      const chat = await curl('POST', '/v1/chat/completions', { bearer: secret, body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] } });
      assert.equal(chat.status, 200);
      assert.equal(chat.json.object, 'chat.completion');
      const usage = chat.json.usage;

      const listed = await curl('GET', `/api/teams/${teamId}/keys`, { admin: true });
      assert.equal(listed.json.data.length, 1);
      assert.equal(listed.json.data[0].key, undefined, 'the secret is never shown again');
      const got = await curl('GET', `/api/teams/${teamId}`, { admin: true });
      assert.equal(got.json.keys.length, 1);
      assert.equal(got.json.keys[0].key, undefined);

      const spend = await curl('GET', `/api/teams/${teamId}/spend`, { admin: true });
      assert.equal(spend.status, 200);
      assert.equal(spend.json.team_id, String(teamId));
      // gpt-4o: $2.50 / 1M input, $10 / 1M output, rounded up to a whole micro-dollar.
      const cost = Math.ceil(usage.prompt_tokens * 2.5 + usage.completion_tokens * 10) / 1e6;
      assert.deepEqual(
        { requests: spend.json.total.requests, cost_usd: spend.json.total.cost_usd, tokens_in: spend.json.total.tokens_in, tokens_out: spend.json.total.tokens_out },
        { requests: 1, cost_usd: cost, tokens_in: usage.prompt_tokens, tokens_out: usage.completion_tokens },
      );
      assert.equal(spend.json.this_month.requests, 1);
      assert.equal(spend.json.this_month.cost_usd, cost);
      assert.equal(spend.json.today.requests, 1);
      assert.equal(spend.json.today.cost_usd, cost);

      const logs = await curl('GET', `/api/teams/${teamId}/logs?limit=20`, { admin: true });
      assert.equal(logs.json.data.length, 1);
      assert.equal(logs.json.data[0].team_id, teamId);
      assert.equal(logs.json.data[0].model, 'gpt-4o');

      const rotated = await curl('POST', `/api/teams/${teamId}/keys/${key.json.id}/rotate`, { admin: true });
      assert.equal(rotated.status, 201);
      assert.equal(rotated.json.id, key.json.id, 'same key: a new secret');
      assert.equal(rotated.json.name, 'production', 'same name');
      assert.notEqual(rotated.json.key, secret);
      const oldKey = await curl('POST', '/v1/chat/completions', { bearer: secret, body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] } });
      assert.equal(oldKey.status, 401, 'the old secret stops working immediately (no grace period asked for)');
      assert.equal(oldKey.json.error.code, 'invalid_api_key');
      const newKey = await curl('POST', '/v1/chat/completions', { bearer: rotated.json.key, body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] } });
      assert.equal(newKey.status, 200);

      const deleted = await curl('DELETE', `/api/teams/${teamId}`, { admin: true });
      assert.equal(deleted.status, 200);
      const afterDelete = await curl('POST', '/v1/chat/completions', { bearer: rotated.json.key, body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] } });
      assert.equal(afterDelete.status, 403, "deleting a team revokes its keys");
      assert.equal(afterDelete.json.error.code, 'key_revoked');
      assert.equal((await curl('GET', `/api/teams/${teamId}`, { admin: true })).status, 404);
    });

    test('personal keys without a team keep working, and are not in any team\'s logs', async () => {
      const personal = await gw.api('POST', '/api/keys', { name: 'laptop', user_id: 1 });
      assert.equal(personal.status, 201);
      assert.equal(personal.body.team_id, null);
      const res = await gw.openai(personal.body.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(res.object, 'chat.completion');
      const team = await gw.api('POST', '/api/teams', { name: 'Other' });
      const logs = await gw.api('GET', `/api/teams/${team.body.id}/logs`);
      assert.equal(logs.body.data.length, 0);
    });
  });
}
