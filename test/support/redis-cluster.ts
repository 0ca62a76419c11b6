// A real Redis Cluster on loopback for tests: 3 masters + 3 replicas (`redis-server
// --cluster-enabled yes`, joined by `redis-cli --cluster create`), with what a failover test needs:
// which master holds a hash tag, SIGKILL of a master, waiting until its replica took over.
//
// Cleanup survives crashed tests like services.ts: every node is SIGKILLed by a process 'exit'
// hook, and a detached watchdog shell kills them (and deletes the temp dir) if this process dies
// without running exit hooks.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { servicesRequired } from './services.ts';

const run = promisify(execFile);

export interface RedisCluster {
  /** every node's port, masters first (as created) */
  ports: number[];
  /** redis://127.0.0.1:<port> of every node, masters first */
  urls: string[];
  /** the current masters' ports (not counting killed ones) */
  masters(): Promise<number[]>;
  /** the live replicas and the port of the master each replicates */
  replicas(): Promise<Array<{ port: number; master: number }>>;
  /** the port of the master serving the slot of `{tag}` */
  masterOf(tag: string): Promise<number>;
  /** SIGKILL a node, master or replica (no goodbye to the cluster: its replica must detect it) */
  killMaster(port: number): Promise<void>;
  /** waits until every slot `port` served is served by a live master and the cluster is ok; returns the new master's port */
  waitFailover(port: number, timeoutMs?: number): Promise<number>;
  /** one command on one node, through redis-cli (raw reply text) */
  cli(port: number, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, cmd);
    try { fs.accessSync(file, fs.constants.X_OK); return file; } catch { /* keep looking */ }
  }
  return undefined;
}

export const clusterAvailable = (): boolean => which('redis-server') !== undefined && which('redis-cli') !== undefined;

/** For `describe(..., { skip })`: skips when the binaries are missing, unless services are required (CI). */
export function clusterSkip(): string | false {
  if (clusterAvailable() || servicesRequired()) return false;
  return 'redis-server and redis-cli are not on PATH (needed for a Redis Cluster)';
}

/** A port P with P and its cluster bus port P + 10000 both free right now. */
async function freePair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    if ((await canBind(port)) && (await canBind(port + 10_000))) return port;
  }
  throw new Error('no free port pair (P, P + 10000) found for a Redis Cluster node');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

interface Node { port: number; dir: string; child: ChildProcess; exited: Promise<unknown> }

interface NodeLine { id: string; port: number; flags: string[]; masterId: string; slots: Array<[number, number]> }

/** CLUSTER NODES, parsed. */
function parseNodes(text: string): NodeLine[] {
  return text.trim().split('\n').filter(Boolean).map((line) => {
    const [id, addr, flags, masterId, , , , , ...slots] = line.trim().split(' ');
    return {
      id: id!,
      port: Number(addr!.split('@')[0]!.split(':').pop()),
      flags: flags!.split(','),
      masterId: masterId!,
      slots: slots.filter((s) => !s.startsWith('[')).map((s) => {
        const [a, b] = s.split('-');
        return [Number(a), Number(b ?? a)] as [number, number];
      }),
    };
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) { last = err; }
    await sleep(50);
  }
  throw new Error(`Redis Cluster: ${what} not reached within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

export async function startRedisCluster(opts: { nodeTimeoutMs?: number } = {}): Promise<RedisCluster> {
  const server = which('redis-server');
  const cliBin = which('redis-cli');
  if (!server || !cliBin) throw new Error('redis-server and redis-cli must be on PATH to start a Redis Cluster');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-redis-cluster-'));
  const nodes: Node[] = [];
  const dead = new Set<number>();

  const pidFile = path.join(root, 'pids');
  const watchdog = spawn('sh', ['-c', 'while kill -0 "$0" 2>/dev/null; do sleep 1; done; kill -9 $(cat "$1/pids") 2>/dev/null; rm -rf "$1"', String(process.pid), root], { detached: true, stdio: 'ignore' });
  watchdog.unref();
  const reap = () => {
    for (const n of nodes) { try { n.child.kill('SIGKILL'); } catch { /* gone */ } }
    try { watchdog.kill('SIGKILL'); } catch { /* gone */ }
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
  process.on('exit', reap);

  const cli = async (port: number, ...args: string[]): Promise<string> =>
    (await run(cliBin, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 2000 })).stdout;

  const startNode = async (i: number): Promise<Node> => {
    for (let attempt = 1; ; attempt++) {
      const port = await freePair();
      const dir = path.join(root, `n${i}-${port}`);
      fs.mkdirSync(dir);
      const log = fs.openSync(path.join(dir, 'redis.log'), 'a');
      const child = spawn(server, ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, 'nodes.conf'),
        '--cluster-node-timeout', String(opts.nodeTimeoutMs ?? 1000),
        // A failed master stops only its own slots, not the whole cluster (the default refuses every
        // query until the failover is done): what a deployment wants, and what the tests assert.
        '--cluster-require-full-coverage', 'no',
        // A replica takes over however long it was out of touch (tests: never refuse a failover).
        '--cluster-replica-validity-factor', '0',
        // Replicas sync at once (the default waits 5 s for more replicas to share a diskless sync).
        '--repl-diskless-sync-delay', '0',
        '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], { stdio: ['ignore', log, log] });
      fs.closeSync(log);
      child.unref();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const node = { port, dir, child, exited };
      nodes.push(node);
      fs.appendFileSync(pidFile, `${child.pid} `);
      try {
        await until(`node ${port} answering PING`, 10_000, async () => {
          if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited: ${fs.readFileSync(path.join(dir, 'redis.log'), 'utf8').split('\n').slice(-5).join('\n')}`);
          return (await cli(port, 'PING')).trim() === 'PONG' ? true : undefined;
        });
        return node;
      } catch (err) {
        child.kill('SIGKILL');
        nodes.splice(nodes.indexOf(node), 1);
        if (attempt >= 4) throw err; // e.g. the port was taken between the probe and the bind
      }
    }
  };

  const live = () => nodes.filter((n) => !dead.has(n.port));
  const clusterNodes = async (): Promise<NodeLine[]> => {
    for (const n of live()) {
      try { return parseNodes(await cli(n.port, 'CLUSTER', 'NODES')); } catch { /* try the next node */ }
    }
    throw new Error('no live node answers CLUSTER NODES');
  };
  const stateOk = async (): Promise<boolean> => {
    for (const n of live()) {
      if (!(await cli(n.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) return false;
    }
    return true;
  };

  try {
    for (let i = 0; i < 6; i++) await startNode(i);
    const ports = nodes.map((n) => n.port);
    await run(cliBin, ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 })
      .catch((err: Error & { stdout?: string; stderr?: string }) => { throw new Error(`redis-cli --cluster create failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`); });
    // Ready when every node sees all six, the state is ok everywhere and every replica is in sync
    // (a replica that never synced cannot take over).
    await until('cluster_state:ok on all six nodes with replicas in sync', 20_000, async () => {
      for (const p of ports) {
        const info = await cli(p, 'CLUSTER', 'INFO');
        if (!info.includes('cluster_state:ok') || !info.includes('cluster_known_nodes:6')) return undefined;
      }
      const view = await clusterNodes();
      const replicas = view.filter((n) => n.flags.includes('slave'));
      if (replicas.length !== 3) return undefined;
      for (const r of replicas) {
        if (!(await cli(r.port, 'INFO', 'replication')).includes('master_link_status:up')) return undefined;
      }
      return true;
    });
    const view = await clusterNodes();
    const masterPorts = view.filter((n) => n.flags.includes('master')).map((n) => n.port);
    const ordered = [...masterPorts, ...ports.filter((p) => !masterPorts.includes(p))];
    /** the slots each master served at start-up (then: after the failovers waited for) */
    const served = new Map(view.filter((n) => n.flags.includes('master')).map((n) => [n.port, n.slots]));

    // Asks each live node whether IT serves the slot (its own `myself` line): a node knows it was
    // promoted before the others hear of it, so "no node claims it" means nobody serves it yet.
    const masterOf = async (tag: string): Promise<number> => {
      const slot = Number((await cli(live()[0]!.port, 'CLUSTER', 'KEYSLOT', `{${tag}}`)).trim());
      for (const n of live()) {
        const self = parseNodes(await cli(n.port, 'CLUSTER', 'NODES').catch(() => '')).find((l) => l.flags.includes('myself'));
        if (self?.flags.includes('master') && self.slots.some(([a, b]) => slot >= a && slot <= b)) return n.port;
      }
      throw new Error(`no live master serves slot ${slot} of {${tag}}`);
    };

    let stopped: Promise<void> | undefined;
    return {
      ports: ordered,
      urls: ordered.map((p) => `redis://127.0.0.1:${p}`),
      cli,
      masterOf,
      async masters() {
        return (await clusterNodes()).filter((n) => n.flags.includes('master') && !n.flags.includes('fail') && !dead.has(n.port) && n.slots.length > 0).map((n) => n.port);
      },
      async replicas() {
        const view = await clusterNodes();
        return view.filter((n) => n.flags.includes('slave') && !n.flags.includes('fail') && !dead.has(n.port))
          .map((n) => ({ port: n.port, master: view.find((m) => m.id === n.masterId)?.port ?? -1 }));
      },
      async killMaster(port) {
        const node = nodes.find((n) => n.port === port);
        if (!node) throw new Error(`no node on port ${port}`);
        dead.add(port);
        node.child.kill('SIGKILL');
        await node.exited;
      },
      async waitFailover(port, timeoutMs = 20_000) {
        const slot = served.get(port)?.[0]?.[0];
        if (slot === undefined) throw new Error(`${port} served no slots at start-up`);
        return until(`a replica of ${port} promoted, state ok on every live node`, timeoutMs, async () => {
          const owner = (await clusterNodes()).find((n) => n.port !== port && n.flags.includes('master') && !n.flags.includes('fail') && n.slots.some(([a, b]) => slot >= a && slot <= b));
          if (!owner || !(await stateOk())) return undefined;
          served.set(owner.port, served.get(port)!);
          return owner.port;
        });
      },
      stop: () => stopped ??= (async () => {
        process.off('exit', reap);
        for (const n of nodes) {
          if (n.child.exitCode === null && n.child.signalCode === null) { n.child.ref(); n.child.kill('SIGKILL'); await n.exited; }
        }
        try { watchdog.kill('SIGKILL'); } catch { /* gone */ }
        fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
      })(),
    };
  } catch (err) {
    reap();
    process.off('exit', reap);
    throw err;
  }
}
