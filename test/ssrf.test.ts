// The SSRF guard: provider base URLs may not point at internal addresses (loopback, link-local,
// private, …, and IPv6 forms of them) unless TOLLGATE_UPSTREAM_ALLOW lists them — refused when a
// provider is written, and at connect time for host names that resolve there (DNS rebinding).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { Pool } from 'undici';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGateway, type Gateway } from './support/gateway.ts';
import { createUpstreamGuard, parseAllowlist } from '../src/net/ssrf.ts';
import { guardedConnector } from '../src/net/guarded-connector.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { openDb } from '../src/db/connection.ts';
import { migrate } from '../src/db/migrate.ts';
import { loadVault } from '../src/vault/crypto.ts';
import { bootstrap } from '../src/bootstrap.ts';

const DENIED = [
  '127.0.0.1', '127.255.0.9', '0.0.0.0', '0.1.2.3', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1',
  '224.0.0.1', '239.255.255.250', '255.255.255.255', '240.0.0.1', '198.18.0.1',
  '::1', '::', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456::1', 'ff02::1', 'fec0::1',
  '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '::ffff:10.0.0.1', '::127.0.0.1', '64:ff9b::a9fe:a9fe', '2002:7f00:1::1', '2002:c0a8:101::',
];
const PUBLIC = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '172.15.255.255', '100.128.0.1', '169.253.0.1', '2606:4700:4700::1111', '2001:4860:4860::8888', '::ffff:8.8.8.8', '64:ff9b::808:808'];

describe('SSRF guard: addresses', () => {
  const guard = createUpstreamGuard([]);
  test('internal addresses, in every form, are refused; public ones are not', () => {
    for (const a of DENIED) assert.equal(guard.checkUpstreamAddress(a, net.isIP(a.split('%')[0]!)), false, a);
    for (const a of PUBLIC) assert.equal(guard.checkUpstreamAddress(a, net.isIP(a)), true, a);
    assert.equal(guard.checkUpstreamAddress('not-an-ip', 4), false);
  });

  test('the allowlist admits CIDRs (also inside IPv4-mapped IPv6), single addresses and host names', () => {
    const g = createUpstreamGuard(['127.0.0.0/8', 'fd00::/8', '10.1.2.3', 'ollama.lan', '*.vllm.internal']);
    assert.equal(g.checkUpstreamAddress('127.0.0.2', 4), true);
    assert.equal(g.checkUpstreamAddress('::ffff:127.0.0.2', 6), true);
    assert.equal(g.checkUpstreamAddress('fd12::1', 6), true);
    assert.equal(g.checkUpstreamAddress('10.1.2.3', 4), true);
    assert.equal(g.checkUpstreamAddress('10.1.2.4', 4), false);
    assert.equal(g.checkUpstreamAddress('::1', 6), false, '::1 is not in 127.0.0.0/8');
    assert.equal(g.checkUpstreamAddress('169.254.169.254', 4), false);
    assert.equal(g.checkUpstreamHost('10.1.2.3'), undefined);
    assert.match(g.checkUpstreamHost('[fe80::1]') ?? '', /link-local/);
    assert.equal(g.checkUpstreamHost('api.openai.com'), undefined, 'names are checked where they resolve');
    assert.equal(createUpstreamGuard(['*']).checkUpstreamAddress('169.254.169.254', 4), true, '* turns the guard off');
  });

  test('bad allowlist entries fail start-up, naming the variable', () => {
    for (const bad of ['10.0.0.0/33', '300.1.1.1', 'http://x', 'a b', '::1/129', '10.0.0.0/x']) {
      assert.throws(() => parseAllowlist([bad]), /is neither/, bad);
      assert.throws(() => loadConfig({ TOLLGATE_UPSTREAM_ALLOW: `127.0.0.1,${bad}` }), (e: Error) => e instanceof ConfigError && /TOLLGATE_UPSTREAM_ALLOW/.test(e.message), bad);
    }
    assert.deepEqual(loadConfig({ TOLLGATE_UPSTREAM_ALLOW: ' 127.0.0.1 , localhost,' }).upstreamAllow, ['127.0.0.1', 'localhost']);
  });
});

describe('SSRF guard: connect time (net.connect lookup)', () => {
  let server: net.Server;
  let port: number;
  before(async () => {
    server = net.createServer((s) => s.end('hello'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const connect = (lookup: net.LookupFunction, host = 'localhost') =>
    new Promise<string>((resolve, reject) => {
      const s = net.connect({ host, port, lookup, family: 4 });
      let out = '';
      s.on('data', (d) => (out += d));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });

  test('a name resolving only to denied addresses fails with a clear error, and nothing connects', async () => {
    let accepted = 0;
    server.on('connection', () => accepted++);
    await assert.rejects(connect(createUpstreamGuard([]).guardedLookup), (e: NodeJS.ErrnoException) => e.code === 'ERR_UPSTREAM_ADDRESS_DENIED' && /localhost/.test(e.message) && /TOLLGATE_UPSTREAM_ALLOW/.test(e.message));
    assert.equal(accepted, 0);
  });

  test('allowed by address or by name, the same lookup connects', async () => {
    assert.equal(await connect(createUpstreamGuard(['127.0.0.1']).guardedLookup), 'hello');
    assert.equal(await connect(createUpstreamGuard(['localhost']).guardedLookup), 'hello');
  });

  test('answers dns.lookup callers asking for one address or all of them', async () => {
    const { guardedLookup } = createUpstreamGuard(['127.0.0.1']);
    const one = await new Promise<[string, number | undefined]>((resolve, reject) => guardedLookup('localhost', { family: 4 }, (err, address, family) => (err ? reject(err) : resolve([address as string, family]))));
    assert.deepEqual(one, ['127.0.0.1', 4]);
    const all = await new Promise<Array<{ address: string }>>((resolve, reject) => guardedLookup('localhost', { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses as Array<{ address: string }>))));
    assert.deepEqual(all.map((a) => a.address), ['127.0.0.1'], '::1, not allowed, is left out');
  });
});

describe('SSRF guard: connect time (undici connector, as the upstream pools use it)', () => {
  let server: http.Server;
  let port: number;
  let accepted = 0;
  before(async () => {
    server = http.createServer((_req, res) => res.end('upstream'));
    server.on('connection', () => accepted++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  async function get(origin: string, allow: string[]): Promise<string> {
    const pool = new Pool(origin, { connect: guardedConnector(createUpstreamGuard(allow)) });
    try {
      const res = await pool.request({ method: 'GET', path: '/v1/models' });
      return await res.body.text();
    } finally {
      await pool.close();
    }
  }

  test('a literal internal address (never looked up by net.connect) and a name resolving to one are refused before connecting', async () => {
    const before = accepted;
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::ffff:127.0.0.1]:${port}`]) {
      await assert.rejects(get(origin, []), (e: NodeJS.ErrnoException) => e.code === 'ERR_UPSTREAM_ADDRESS_DENIED' && /TOLLGATE_UPSTREAM_ALLOW/.test(e.message), origin);
    }
    assert.equal(accepted, before, 'no connection was made');
  });

  test('allowed, the same origins are reached', async () => {
    assert.equal(await get(`http://127.0.0.1:${port}`, ['127.0.0.1']), 'upstream');
    assert.equal(await get(`http://localhost:${port}`, ['127.0.0.0/8']), 'upstream');
  });
});

describe('SSRF guard: provider base_url', () => {
  let gw: Gateway;
  before(async () => {
    // No loopback allowance here (and no OPENAI_API_KEY, whose fake upstream is on loopback).
    gw = await startGateway({ env: { TOLLGATE_UPSTREAM_ALLOW: '', OPENAI_API_KEY: '' } });
  });
  after(() => gw?.close());

  const create = (base_url: string) => gw.api('POST', '/api/providers', { name: 'p', provider: 'openai-compatible', base_url, api_key: 'sk-provider-secret-1234', models: ['m'] });

  test('internal addresses — literal, encoded, IPv6, or a name resolving to one — are refused with 400 naming base_url; nothing is written', async () => {
    const urls = [
      'http://169.254.169.254/latest/meta-data', 'http://127.0.0.1:4000/v1', 'http://[::1]:8080/v1', 'http://[::ffff:127.0.0.1]/v1', 'http://[::ffff:a9fe:a9fe]/',
      'http://10.0.0.5/v1', 'http://172.20.1.1/v1', 'http://192.168.0.10:11434/v1', 'http://0.0.0.0:4000/v1', 'http://2130706433/v1', 'http://0x7f.1/v1',
      'http://[fe80::1]/v1', 'http://[fd00::1]/v1', 'http://224.0.0.251/', 'http://localhost:11434/v1', 'http://LOCALHOST./v1',
    ];
    for (const url of urls) {
      const r = await create(url);
      assert.equal(r.status, 400, `${url}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'invalid_request', url);
      assert.equal(r.body.error.param, 'base_url', url);
      assert.match(r.body.error.message, /TOLLGATE_UPSTREAM_ALLOW/, url);
      assert.ok(!r.body.error.message.includes('sk-provider-secret'), 'no secret in the error');
    }
    assert.deepEqual((await gw.api('GET', '/api/providers')).body.data, []);
    assert.equal((await gw.api('GET', '/api/teams')).status, 200);
  });

  test('a public address is accepted', async () => {
    const r = await create('https://93.184.215.14/v1');
    assert.equal(r.status, 201, JSON.stringify(r.body));
  });
});

describe('SSRF guard: OPENAI_BASE_URL registered on first start', () => {
  test('must be allowlisted when internal: start-up says so, and registers it once it is', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-ssrf-'));
    const db = openDb(`sqlite:${path.join(dir, 'tollgate.db')}`);
    try {
      await migrate(db);
      const { vault } = loadVault(undefined, dir);
      const env = { TOLLGATE_DATA_DIR: dir, OPENAI_API_KEY: 'sk-operator', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' };
      await assert.rejects(bootstrap(db.kysely, loadConfig(env), vault, Date.now()), (e: Error) => e instanceof ConfigError && /OPENAI_BASE_URL/.test(e.message) && /TOLLGATE_UPSTREAM_ALLOW/.test(e.message));
      const boot = await bootstrap(db.kysely, loadConfig({ ...env, TOLLGATE_UPSTREAM_ALLOW: '127.0.0.1' }), vault, Date.now());
      assert.equal(boot.registeredOpenAI, true);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
