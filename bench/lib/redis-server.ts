// A throwaway redis-server for the Redis benchmarks (bench/fleet.ts, bench/redis-client.ts): on a
// free loopback port, no persistence, optionally pinned to CPUs with taskset so its CPU time is
// its own core's. Stopped by the caller (and killed with this process: proc.ts).
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pinned, startChild, type Child } from './proc.ts';
import { freePort } from '../../test/support/services.ts';

export interface RedisServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export function redisServerAvailable(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function startRedisServer(cpus?: string): Promise<RedisServer> {
  const port = await freePort();
  const [cmd, args] = pinned(cpus, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning']);
  const proc: Child = startChild(`redis-${port}`, cmd, args);
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    for (let i = 0; ; i++) {
      if (proc.child.exitCode !== null) throw new Error(`redis-server exited at start:\n${proc.output().slice(-2000)}`);
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch (err) {
        if (i > 100) throw new Error(`redis-server on port ${port} did not answer PING: ${(err as Error).message}`);
        probe.disconnect();
        await sleep(50);
      }
    }
  } catch (err) {
    await proc.stop('SIGKILL', 0);
    throw err;
  } finally {
    probe.disconnect();
  }
  return { url, pid: proc.pid, stop: () => proc.stop('SIGTERM', 5000) };
}
