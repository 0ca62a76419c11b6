// applyChange repeats a change PostgreSQL aborted as one side of a deadlock or a serialization
// conflict (a log flush and a team deletion lock api_keys and key_spend rows), and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from './support/gateway.ts';
import { applyChange } from '../src/audit/change.ts';
import type { Actor } from '../src/http/actor.ts';

test('a change aborted by a deadlock is run again; other errors are not retried; three strikes and it fails', async () => {
  const gw = await startGateway();
  try {
    const deps = gw.runtime.deps;
    const actor: Actor = { type: 'admin_key', id: 'master', orgId: deps.defaultOrgId, role: 'admin', userId: null, superadmin: true, ip: null };
    const failing = (code: string, times: number) => {
      let calls = 0;
      const fn = async () => {
        calls++;
        if (calls <= times) throw Object.assign(new Error(`simulated ${code}`), { code });
        return { result: calls, audit: [] };
      };
      return { fn, calls: () => calls };
    };
    const deadlock = failing('40P01', 1);
    assert.equal(await applyChange(deps, actor, deadlock.fn), 2, 'the second attempt commits');
    const conflict = failing('40001', 2);
    assert.equal(await applyChange(deps, actor, conflict.fn), 3);
    const stuck = failing('40P01', 5);
    await assert.rejects(applyChange(deps, actor, stuck.fn), /simulated 40P01/);
    assert.equal(stuck.calls(), 3);
    const other = failing('23505', 1);
    await assert.rejects(applyChange(deps, actor, other.fn), /simulated 23505/);
    assert.equal(other.calls(), 1, 'a unique violation is an answer, not a race to retry');
  } finally {
    await gw.close();
  }
});
