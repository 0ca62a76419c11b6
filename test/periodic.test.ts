// The background schedule shared by log partitions, log retention, key rotation and the
// provisioned-key sweeper (src/periodic.ts): one run at a time, tick() joining or queueing behind
// the run in progress, failures reported without ending the schedule, stop() waiting for the run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Periodic } from '../src/periodic.ts';

/** A task whose runs end when the test says so. */
function gatedTask() {
  const started: number[] = [];
  const gates: Array<() => void> = [];
  let n = 0;
  const task = () => {
    const run = ++n;
    started.push(run);
    return new Promise<number>((resolve) => gates.push(() => resolve(run)));
  };
  const release = async () => {
    while (gates.length === 0) await sleep(1);
    gates.shift()!();
  };
  return { task, started, release };
}

describe('Periodic (src/periodic.ts)', () => {
  test('tick() during a run joins it: one run, one result for both callers', async () => {
    const g = gatedTask();
    const p = new Periodic(g.task, { intervalMs: 60_000 });
    const first = p.tick();
    const second = p.tick();
    await g.release();
    assert.deepEqual(await Promise.all([first, second]), [1, 1]);
    assert.deepEqual(g.started, [1]);
  });

  test('with queue, tick() during a run runs again once it ends: the caller sees a run that began after its call', async () => {
    const g = gatedTask();
    const p = new Periodic(g.task, { intervalMs: 60_000, queue: true });
    const first = p.tick();
    const second = p.tick();
    await sleep(5);
    assert.deepEqual(g.started, [1], 'the second run waits for the first');
    await g.release();
    assert.equal(await first, 1);
    await g.release();
    assert.equal(await second, 2);
    assert.deepEqual(g.started, [1, 2]);
  });

  test('a failing run is reported and the schedule goes on; stop() waits for the run in progress and ends it', async () => {
    let runs = 0;
    const errors: string[] = [];
    const results: number[] = [];
    let inRun: (() => void) | undefined;
    const p = new Periodic(async () => {
      runs++;
      if (runs === 1) throw new Error('first run fails');
      if (runs === 3) await new Promise<void>((resolve) => (inRun = resolve));
      return runs;
    }, { intervalMs: 5, onResult: (r) => results.push(r), onError: (err) => errors.push((err as Error).message) });
    p.start(1);
    const deadline = Date.now() + 5_000;
    while (!inRun && Date.now() < deadline) await sleep(2);
    assert.ok(inRun, 'the third run started');
    assert.deepEqual(errors, ['first run fails']);
    assert.deepEqual(results, [2]);
    let stopped = false;
    const stopping = p.stop().then(() => (stopped = true));
    await sleep(10);
    assert.equal(stopped, false, 'stop() waits for the run in progress');
    assert.equal(p.stopping, true);
    inRun!();
    await stopping;
    await sleep(20);
    assert.equal(runs, 3, 'no run after stop()');
  });
});
