// `tollgate users|teams|keys|management-keys` end to end: `node src/cli.ts …` spawned against a
// running gateway, authenticated by a management key from the environment or a key file, never
// from argv. The CLI is a client of /api, so one dialect is enough here (the API has its own
// suites on both).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGateway, type Gateway } from './support/gateway.ts';

const CLI = path.resolve(import.meta.dirname, '../src/cli.ts');

interface Run { code: number; stdout: string; stderr: string; json: any }

function tollgate(args: string[], env: Record<string, string | undefined>, stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Only what the CLI needs: no TOLLGATE_* of the test process leaks in.
    const childEnv: Record<string, string> = { PATH: process.env.PATH ?? '' };
    for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
    const child = execFile(process.execPath, [CLI, ...args], { env: childEnv, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (err && code === -1) return reject(err);
      let json: any;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code, stdout, stderr, json });
    });
    child.stdin!.end(stdin ?? '');
  });
}

describe('tollgate API subcommands (CLI over /api)', () => {
  let gw: Gateway;
  let dir: string;
  let adminKey: string;
  let env: Record<string, string>;

  before(async () => {
    gw = await startGateway();
    dir = mkdtempSync(path.join(tmpdir(), 'tollgate-cli-'));
    adminKey = (await gw.api('POST', '/api/management-keys', { name: 'cli admin', role: 'admin' })).body.key;
    env = { TOLLGATE_URL: gw.url, TOLLGATE_MANAGEMENT_KEY: adminKey };
  });
  after(async () => {
    await gw?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('teams, users and keys: create, list, rotate, revoke, deactivate', async () => {
    const team = await tollgate(['teams', 'create', '--name', 'CLI Team', '--description', 'made by a script'], env);
    assert.equal(team.code, 0, team.stderr);
    assert.equal(team.json.name, 'CLI Team');
    const teams = await tollgate(['teams', 'list'], env);
    assert.ok(teams.json.data.some((t: any) => t.id === team.json.id));

    const password = 'a long enough password for cli';
    const user = await tollgate(['users', 'create', '--external-id', 'cli-user', '--email', 'cli@example.com', '--team', String(team.json.id), '--team-role', 'member', '--password-stdin'], env, password + '\n');
    assert.equal(user.code, 0, user.stderr);
    assert.equal(user.json.external_id, 'cli-user');
    assert.equal(user.json.password_set, true);
    assert.ok(!user.stdout.includes(password));
    const found = await tollgate(['users', 'list', '--email', 'CLI@example.com'], env);
    assert.deepEqual(found.json.data.map((u: any) => u.id), [user.json.id]);
    const one = await tollgate(['users', 'get', String(user.json.id)], env);
    assert.deepEqual(one.json.teams.map((t: any) => [t.team_id, t.role]), [[team.json.id, 'member']]);

    const key = await tollgate(['keys', 'create', '--name', 'cli key', '--team', String(team.json.id), '--user', String(user.json.id), '--max-budget-usd', '5'], env);
    assert.equal(key.code, 0, key.stderr);
    assert.match(key.json.key, /^sk-tg-/);
    assert.equal(key.json.limits.max_budget_usd, 5);
    const ok = await gw.openai(key.json.key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(ok.object, 'chat.completion');
    const listed = await tollgate(['keys', 'list', '--team', String(team.json.id)], env);
    assert.deepEqual(listed.json.data.map((k: any) => k.id), [key.json.id]);
    assert.ok(!listed.stdout.includes(key.json.key), 'listings never show secrets');

    const rotated = await tollgate(['keys', 'rotate', String(key.json.id)], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.notEqual(rotated.json.key, key.json.key);
    await assert.rejects(gw.openai(key.json.key).chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }), (e: any) => e.status === 401);

    const off = await tollgate(['users', 'deactivate', String(user.json.id)], env);
    assert.equal(off.code, 0, off.stderr);
    assert.deepEqual(off.json.disabled_key_ids, [key.json.id]);
    const revoked = await tollgate(['keys', 'revoke', String(key.json.id)], env);
    assert.equal(revoked.json.status, 'revoked');
  });

  test('--table, --all and a key file', async () => {
    for (let i = 0; i < 5; i++) await gw.api('POST', '/api/users', { external_id: `page-${i}`, name: `Paged ${i}` });
    const all = await tollgate(['users', 'list', '--q', 'page-', '--limit', '2', '--all'], env);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(all.json.data.map((u: any) => u.external_id), ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    const table = await tollgate(['users', 'list', '--q', 'page-', '--table'], env);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0]!, /^ID\s+EXTERNAL_ID\s+EMAIL\s+NAME\s+ROLE\s+STATUS$/);
    assert.equal(lines.length, 6);
    assert.match(lines[1]!, /page-0\s+-\s+Paged 0\s+member\s+active$/);

    const file = path.join(dir, 'mkey');
    writeFileSync(file, adminKey + '\n');
    chmodSync(file, 0o600);
    const viaFile = await tollgate(['teams', 'list', '--key-file', file], { TOLLGATE_URL: gw.url });
    assert.equal(viaFile.code, 0, viaFile.stderr);
    assert.equal(viaFile.stderr, '');
    chmodSync(file, 0o644);
    const loose = await tollgate(['teams', 'list', '--key-file', file], { TOLLGATE_URL: gw.url });
    assert.equal(loose.code, 0);
    assert.match(loose.stderr, /readable by other users/);
  });

  test('management keys from the CLI; a team-scoped key is refused outside its team with the API message', async () => {
    const team = (await gw.api('POST', '/api/teams', { name: 'Scoped' })).body;
    const created = await tollgate(['management-keys', 'create', '--name', 'scoped ci', '--role', 'owner', '--team', String(team.id)], env);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.json.key, /^sk-tgm-/);
    const scoped = { TOLLGATE_URL: gw.url, TOLLGATE_MANAGEMENT_KEY: created.json.key };
    const refused = await tollgate(['teams', 'create', '--name', 'Not mine'], scoped);
    assert.equal(refused.code, 1);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /This action \(team\.create\) is not allowed for this credential\. \(forbidden, HTTP 403\)/);
    const mine = await tollgate(['management-keys', 'list'], scoped);
    assert.ok(mine.json.data.every((k: any) => k.team_id === team.id));
    const rotated = await tollgate(['management-keys', 'rotate', String(created.json.id)], env);
    assert.equal(rotated.code, 0);
    const old = await tollgate(['management-keys', 'list'], scoped);
    assert.equal(old.code, 1);
    assert.match(old.stderr, /invalid_api_key, HTTP 401/);
    assert.ok(!old.stderr.includes(created.json.key), 'the key is never echoed');
    const revoked = await tollgate(['management-keys', 'revoke', String(created.json.id)], env);
    assert.equal(revoked.json.status, 'revoked');
  });

  test('failures: API validation (exit 1, the field named), usage (exit 2), no credential, a secret in argv, an unreachable gateway', async () => {
    const bad = await tollgate(['users', 'create', '--external-id', 'x', '--email', 'not-an-email'], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /email: must be an email address \(invalid_request, HTTP 400\)/);
    const missing = await tollgate(['teams', 'create'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--name is required/);
    const unknown = await tollgate(['keys', 'list', '--colour', 'red'], env);
    assert.equal(unknown.code, 2);
    const notId = await tollgate(['keys', 'revoke', 'abc'], env);
    assert.equal(notId.code, 2);
    const noCred = await tollgate(['teams', 'list'], { TOLLGATE_URL: gw.url });
    assert.equal(noCred.code, 2);
    assert.match(noCred.stderr, /TOLLGATE_MANAGEMENT_KEY/);
    const inArgv = await tollgate(['teams', 'list', `--key=${adminKey}`], { TOLLGATE_URL: gw.url });
    assert.equal(inArgv.code, 2);
    assert.match(inArgv.stderr, /never passed as arguments/);
    assert.ok(!inArgv.stderr.includes(adminKey));
    const down = await tollgate(['teams', 'list'], { TOLLGATE_URL: 'http://127.0.0.1:9', TOLLGATE_MANAGEMENT_KEY: adminKey });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:9/);
    const help = await tollgate(['keys', 'help'], {});
    assert.equal(help.code, 0);
    assert.match(help.stdout, /keys rotate <id>/);
  });
});
