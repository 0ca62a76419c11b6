// A background task run on a schedule, one run at a time: the first run after `firstDelayMs`, the
// next `intervalMs` after each run ENDS (a slow run never overlaps the next), each outcome handed
// to onResult / onError. tick() runs it now, or joins the run in progress (tests and start-up call
// it) — or, with `queue`, runs it again once the run in progress ends, so that a caller sees a run
// that began after its call. stop() ends the schedule and waits for the runs in progress; a long
// run checks `stopping` between its steps to end early. Timers are unref'd: a schedule never keeps
// the process alive.
//
//   const p = new Periodic((arg) => prune(arg), { intervalMs: 3_600_000, onResult, onError });
//   p.start(60_000);  …  await p.stop();
export interface PeriodicOptions<R> {
  intervalMs: number;
  /** tick() during a run queues a fresh run after it (instead of joining it) */
  queue?: boolean;
  onResult?(result: R): void;
  onError?(err: unknown): void;
}

export class Periodic<R, A = void> {
  private readonly task: (arg?: A) => Promise<R>;
  private readonly opts: PeriodicOptions<R>;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<R> | undefined;
  private stopped = false;

  constructor(task: (arg?: A) => Promise<R>, opts: PeriodicOptions<R>) {
    this.task = task;
    this.opts = opts;
  }

  /** Whether stop() was called: a long run ends at its next step. */
  get stopping(): boolean {
    return this.stopped;
  }

  /** Runs now, or returns the run in progress (with `queue`: runs again after it). */
  tick(arg?: A): Promise<R> {
    if (!this.opts.queue) return (this.running ??= this.task(arg).finally(() => (this.running = undefined)));
    const run = (this.running ?? Promise.resolve()).catch(() => {}).then(() => this.task(arg));
    this.running = run;
    void run.finally(() => {
      if (this.running === run) this.running = undefined;
    }).catch(() => {});
    return run;
  }

  /** Runs once, reporting the outcome to onResult / onError rather than throwing. */
  async runReported(arg?: A): Promise<void> {
    await this.tick(arg).then((r) => this.opts.onResult?.(r), (err: unknown) => this.opts.onError?.(err));
  }

  start(firstDelayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runReported().finally(() => {
        if (!this.stopped) this.start(this.opts.intervalMs);
      });
    }, firstDelayMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }
}
