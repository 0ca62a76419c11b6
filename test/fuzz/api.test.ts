// Fuzzing every /api route family on SQLite (issue 8, "keep proving it"): wrong types, huge and
// deep bodies, unicode and NUL, hostile path ids and query strings, header injection, wrong
// content types and credentials. Every case must get an answer below 500, in OpenAI's error shape
// with a registered code when refused, with no secret in it, and a refused case must leave every
// table as it was. PostgreSQL runs a smaller sample in api-postgres.test.ts (its own process, so
// the two run side by side). Knobs (cases per family, seed replay): test/support/fuzz-run.ts.
import { fuzzApi } from '../support/fuzz-api.ts';
import { FUZZ_RUNS } from '../support/fuzz-run.ts';

await fuzzApi('sqlite', 'test/fuzz/api.test.ts', FUZZ_RUNS, 'TOLLGATE_FUZZ_RUNS');
