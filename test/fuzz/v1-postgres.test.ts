// The /v1 fuzz suite of v1.test.ts on PostgreSQL, on a smaller sample (TOLLGATE_FUZZ_PG_RUNS,
// default 1,000 cases per endpoint): cold key loads and the request log go through the
// PostgreSQL driver and its rules.
import { fuzzV1 } from '../support/fuzz-v1.ts';
import { FUZZ_PG_RUNS } from '../support/fuzz-run.ts';

await fuzzV1('postgres', 'test/fuzz/v1-postgres.test.ts', FUZZ_PG_RUNS, 'TOLLGATE_FUZZ_PG_RUNS');
