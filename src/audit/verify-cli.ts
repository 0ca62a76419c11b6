// `tollgate audit verify [--org N]`: reads the database directly (like the other maintenance
// commands), prints one line per organization (verify.ts describe()) and exits 1 if any chain is
// broken, 2 on bad arguments.
import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { openDb } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { describe, verifyAudit } from './verify.ts';

export async function auditVerifyCommand(config: Config, args: string[]): Promise<number> {
  let org: string | undefined;
  try {
    ({ values: { org } } = parseArgs({ args, strict: true, options: { org: { type: 'string' } } }));
  } catch (err) {
    process.stderr.write(`tollgate audit verify: ${(err as Error).message}\nUsage: tollgate audit verify [--org <id>]\n`);
    return 2;
  }
  if (org !== undefined && !/^[1-9]\d{0,9}$/.test(org)) {
    process.stderr.write(`tollgate audit verify: --org must be an organization id (got "${org.slice(0, 40)}")\n`);
    return 2;
  }
  const db = openDb(config.databaseUrl);
  try {
    await migrate(db);
    const results = await verifyAudit(db.kysely, org === undefined ? {} : { orgId: Number(org) });
    if (results.length === 0) process.stdout.write('no audit events\n');
    for (const r of results) process.stdout.write(`${describe(r)}\n`);
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    await db.close();
  }
}
