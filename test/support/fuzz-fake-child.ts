// The fake upstream (fake-upstream.ts) in a process of its own, for the /v1 fuzz suite: a body the
// gateway forwards and the fake cannot survive must fail the case that sent it, not the test run.
// The parent asks over IPC how many generation requests arrived (and resets the count).
import { startFakeUpstream } from './fake-upstream.ts';

const fake = await startFakeUpstream({ requireAuth: process.env.FUZZ_UPSTREAM_KEY! });
process.on('message', (m: { id: number; reset: boolean }) => {
  // GET /v1/models is the model list Tollgate caches, not a forwarded request.
  const n = fake.requests.filter((r) => r.path !== '/v1/models').length;
  if (m.reset) fake.reset();
  process.send!({ id: m.id, n });
});
process.send!({ ready: fake.baseUrl });
