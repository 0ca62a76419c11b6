// The /api fuzz suite of api.test.ts on PostgreSQL, on a smaller sample (TOLLGATE_FUZZ_PG_RUNS,
// default 1,000 cases per family): what differs there is the driver and the database's own
// rules (NUL in text, integer ranges, unique violations), not the routes.
import { fuzzApi } from '../support/fuzz-api.ts';
import { FUZZ_PG_RUNS } from '../support/fuzz-run.ts';

await fuzzApi('postgres', 'test/fuzz/api-postgres.test.ts', FUZZ_PG_RUNS, 'TOLLGATE_FUZZ_PG_RUNS');
