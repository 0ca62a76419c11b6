// A Tollgate for the fuzz suites: like test/support/gateway.ts (real SQLite or PostgreSQL, the
// fake upstream), plus what the fuzzer needs — the server's warn/error log lines captured (a 5xx
// is attributed to the source line that threw), a priced model so /v1 requests reserve budget,
// and a set of objects (team, keys, user, provider, service account, a second organization) for
// path ids to point at and credentials to try.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.ts';
import { startRuntime, type Runtime } from '../../src/runtime.ts';
import { generateKey } from '../../src/keys/key-format.ts';
import { startFakeUpstream } from './fake-upstream.ts';
import { testPostgresUrl } from './services.ts';
import { ADMIN_KEY, UPSTREAM_KEY, type Dialect } from './gateway.ts';
import type { Secrets } from './fuzz-checks.ts';

/** Priced so that every /v1 request reserves budget (prompt and output both cost). */
export const FUZZ_MODEL = 'gpt-fuzz';
/** Every provider credential the fuzzer sends starts so: none may ever come back. */
export const PROVIDER_SECRET_PREFIX = 'sk-fuzzprov-';

export interface FuzzGateway {
  app: FastifyInstance;
  port: number;
  runtime: Runtime;
  /** warn/error lines the server logged, since the last `logs.length = 0` */
  logs: string[];
  fixtures: Fixtures;
  secrets: Secrets;
  close(): Promise<void>;
}

export interface Fixtures {
  teamId: number;
  userId: number;
  keyId: number;
  keySecret: string;
  revokedSecret: string;
  otherOrgAdminKey: string;
  orgAdminKey: string;
}

/** `upstream`: the base URL of a fake upstream running elsewhere (default: one in this process). */
export async function startFuzzGateway(dialect: Dialect, upstream?: string): Promise<FuzzGateway> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-fuzz-'));
  const fake = upstream === undefined ? await startFakeUpstream({ requireAuth: UPSTREAM_KEY }) : undefined;
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ pricing: { [FUZZ_MODEL]: { input: 1_000_000, output: 2_000_000, maxOutputTokens: 4_096 } } }));
  const databaseUrl = dialect === 'postgres' ? await testPostgresUrl() : `sqlite:${path.join(dir, 'tollgate.db')}`;
  if (!databaseUrl) throw new Error('PostgreSQL is not available for this test run');
  const config = loadConfig({
    TOLLGATE_DATA_DIR: dir,
    TOLLGATE_DATABASE_URL: databaseUrl,
    TOLLGATE_CONFIG: configFile,
    TOLLGATE_ADMIN_KEY: ADMIN_KEY,
    OPENAI_API_KEY: UPSTREAM_KEY,
    OPENAI_BASE_URL: (upstream ?? fake!.baseUrl) + '/v1',
    TOLLGATE_LOG_FLUSH_MS: '50',
    // The fake upstream listens on loopback, which the SSRF guard refuses unless allowed.
    TOLLGATE_UPSTREAM_ALLOW: '127.0.0.1',
    // One client on 127.0.0.1 sends thousands of wrong credentials on purpose; throttling them
    // would turn the rest of the run into the same 429 and fuzz nothing behind authentication.
    TOLLGATE_AUTH_FAILURES_PER_MINUTE: '0',
  });
  const logs: string[] = [];
  const runtime = await startRuntime(config, { logger: { level: 'warn', stream: { write: (line: string) => void logs.push(line) } } });
  await runtime.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (runtime.app.server.address() as { port: number }).port;
  const fixtures = await createFixtures(runtime.app);
  const secrets: Secrets = {
    named: {
      'master admin key': ADMIN_KEY,
      'upstream provider key': UPSTREAM_KEY,
      '/v1 key': fixtures.keySecret,
      'revoked /v1 key': fixtures.revokedSecret,
      "other organization's admin key": fixtures.otherOrgAdminKey,
      'organization admin key': fixtures.orgAdminKey,
    },
    patterns: [new RegExp(PROVIDER_SECRET_PREFIX)],
  };
  logs.length = 0;
  return {
    app: runtime.app, port, runtime, logs, fixtures, secrets,
    async close() {
      // The checkpointer's stop() waits for an unref'd worker thread to exit: with nothing else
      // pending, the process would end inside close() (as at the top level of a test file).
      const alive = setInterval(() => {}, 1_000);
      try {
        await runtime.close();
        await fake?.close();
      } finally {
        clearInterval(alive);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function createFixtures(app: FastifyInstance): Promise<Fixtures> {
  const call = async (method: string, url: string, body?: unknown, key = ADMIN_KEY) => {
    const res = await app.inject({ method: method as 'POST', url, headers: { 'x-admin-key': key }, ...(body !== undefined ? { payload: body as object } : {}) });
    if (res.statusCode >= 300) throw new Error(`fixture ${method} ${url} → ${res.statusCode} ${res.body}`);
    return res.json();
  };
  const team = await call('POST', '/api/teams', { name: 'Fuzz team', max_budget_usd: 1_000_000, budget_mode: 'hard' });
  const user = await call('POST', '/api/users', { external_id: 'fuzz@example.com', team_id: team.id });
  await call('PUT', `/api/teams/${team.id}/members/${user.id}`, { allocation_usd: 100_000 });
  // Budget (hard) and concurrency at the key: every admitted /v1 request reserves and takes a slot.
  const key = await call('POST', `/api/teams/${team.id}/keys`, { name: 'fuzz key', user_id: user.id, max_budget_usd: 50_000, budget_mode: 'hard', max_parallel_requests: 1_000 });
  const revoked = await call('POST', `/api/teams/${team.id}/keys`, { name: 'revoked key', user_id: user.id });
  await call('DELETE', `/api/keys/${revoked.id}`);
  await call('POST', `/api/teams/${team.id}/service-accounts`, { name: 'fuzz robot' });
  // A provider for /api cases to list and delete. Its address is down on purpose, so no /v1 case names its model.
  await call('POST', '/api/providers', { name: 'fuzz provider', provider: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: `${PROVIDER_SECRET_PREFIX}fixture`, models: ['fuzz-provider-model'] });
  const orgAdmin = await call('POST', '/api/orgs/1/admin-keys', { name: 'fuzz org admin' });
  const other = await call('POST', '/api/orgs', { name: 'Other org' });
  return { teamId: team.id, userId: user.id, keyId: key.id, keySecret: key.key, revokedSecret: revoked.key, otherOrgAdminKey: other.admin_key, orgAdminKey: orgAdmin.key };
}

/** A well-formed key that exists nowhere (passes the checksum, fails the lookup). */
export const unknownKey = (prefix?: string) => generateKey(prefix);
