// The parent's handle on the out-of-process fake upstream (fuzz-fake-child.ts). The gateway talks
// to a stable loopback port here, piped to whichever child is alive: when a request kills the
// child, the case that sent it is told (`crashed`), a new child starts, and the run goes on.
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { UPSTREAM_KEY } from './gateway.ts';

const CHILD = new URL('./fuzz-fake-child.ts', import.meta.url);

export class FakeProcess {
  /** base URL for OPENAI_BASE_URL (append /v1) */
  baseUrl = '';
  private child!: ChildProcess;
  private port = 0;
  private crashed: string | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly proxy = net.createServer((client) => {
    const up = net.connect(this.port, '127.0.0.1');
    for (const s of [client, up]) {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    }
    client.pipe(up).pipe(client);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
  });
  private readonly waiting = new Map<number, (n: number) => void>();
  private nextId = 0;
  private closing = false;

  static async start(): Promise<FakeProcess> {
    const f = new FakeProcess();
    await new Promise<void>((resolve) => f.proxy.listen(0, '127.0.0.1', resolve));
    f.baseUrl = `http://127.0.0.1:${(f.proxy.address() as net.AddressInfo).port}`;
    await f.spawn();
    return f;
  }

  private spawn(): Promise<void> {
    this.crashed = undefined;
    // A small heap: a request that makes the fake allocate without bound kills it in a second, not a minute.
    const child = (this.child = fork(CHILD, { env: { ...process.env, FUZZ_UPSTREAM_KEY: UPSTREAM_KEY }, execArgv: ['--max-old-space-size=64'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }));
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => void (stderr = (stderr + c.toString()).slice(-2_000)));
    child.on('message', (m: { id?: number; n?: number }) => {
      if (m.id === undefined) return;
      this.waiting.get(m.id)?.(m.n!);
      this.waiting.delete(m.id);
    });
    child.once('exit', (code, signal) => {
      if (this.closing) return;
      const why = /heap out of memory|invalid table size|invalid array length/i.exec(stderr)?.[0] ?? stderr.trim().split('\n').at(-1) ?? '';
      this.crashed = `the fake upstream process died (${signal ?? `exit ${code}`}${why ? `: ${why}` : ''})`;
      for (const resolve of this.waiting.values()) resolve(-1);
      this.waiting.clear();
    });
    return new Promise((resolve, reject) => {
      child.once('message', (m: { ready?: string }) => {
        this.port = Number(new URL(m.ready!).port);
        resolve();
      });
      child.once('error', reject);
    });
  }

  /**
   * Generation requests the fake received since the last call; or why it died since then (a new
   * one is running when this returns).
   */
  async take(): Promise<{ requests: number } | { crashed: string }> {
    if (!this.crashed) {
      const id = this.nextId++;
      const n = await new Promise<number>((resolve) => {
        this.waiting.set(id, resolve);
        this.child.send({ id, reset: true });
      });
      if (n >= 0) return { requests: n };
    }
    const crashed = this.crashed ?? 'the fake upstream process died';
    await this.spawn();
    return { crashed };
  }

  async close(): Promise<void> {
    this.closing = true;
    this.child.kill();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.proxy.close(() => resolve()));
  }
}
