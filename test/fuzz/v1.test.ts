// Fuzzing every /v1 endpoint on SQLite (issue 8, "keep proving it"): the completion endpoints of
// the fast lane and every /v1 route in the app's route table, 10,000 cases each by default. See
// test/support/fuzz-v1.ts for what each case must satisfy, fuzz-run.ts for the knobs (cases per
// family, seed replay). PostgreSQL runs a smaller sample in v1-postgres.test.ts.
import { fuzzV1 } from '../support/fuzz-v1.ts';
import { FUZZ_RUNS } from '../support/fuzz-run.ts';

await fuzzV1('sqlite', 'test/fuzz/v1.test.ts', FUZZ_RUNS, 'TOLLGATE_FUZZ_RUNS');
