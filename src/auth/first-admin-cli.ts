// `tollgate users create-admin --email E --password-stdin [--org SLUG] [--reset]`: an org admin who
// can sign in, made directly in the database (no running server or management key needed — this is
// how an operator gets in, or back in). The password is read from stdin, never from an argument
// (arguments show in `ps` and shell history), and never printed.
import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { openDb } from '../db/connection.ts';
import { migrate } from '../db/migrate.ts';
import { iso } from '../clock.ts';
import { passwordProblem } from './passwords.ts';
import { adminCredentials, ensureAdmin, systemActor } from './first-admin.ts';

const USAGE = 'usage: tollgate users create-admin --email <email> --password-stdin [--org <slug>] [--reset]\n';

export async function createAdminCommand(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { email: { type: 'string' }, 'password-stdin': { type: 'boolean' }, org: { type: 'string' }, reset: { type: 'boolean' } },
  });
  if (!values.email || !/^[^\s@]+@[^\s@]+$/.test(values.email) || !values['password-stdin']) {
    process.stderr.write(USAGE);
    return 2;
  }
  const password = await readStdin();
  const problem = passwordProblem(password);
  if (problem) {
    process.stderr.write(`tollgate: the password ${problem}\n`);
    return 2;
  }
  const db = openDb(config.databaseUrl);
  try {
    await migrate(db);
    let q = db.kysely.selectFrom('organizations').select(['id', 'slug']);
    q = values.org === undefined ? q.orderBy('id') : q.where('slug', '=', values.org);
    const org = await q.executeTakeFirst();
    if (!org) {
      process.stderr.write(values.org === undefined ? 'tollgate: no organization yet: start Tollgate once (it creates the default one), or set TOLLGATE_ADMIN_EMAIL and TOLLGATE_ADMIN_PASSWORD for its first start\n' : `tollgate: no organization with slug "${values.org}"\n`);
      return 1;
    }
    const creds = (await adminCredentials(values.email, password))!;
    const at = iso(Date.now());
    const done = await db.kysely.transaction().execute((trx) => ensureAdmin(trx, org.id, creds, systemActor('cli', org.id), at, values.reset === true));
    const what = {
      created: 'created admin',
      password_set: 'set the password of, and made admin,',
      password_reset: 'replaced the password of (its sessions ended), and made admin,',
      unchanged: 'left unchanged (it already has a password; --reset replaces it)',
    }[done.outcome];
    process.stdout.write(`${what} ${creds.email} (user ${done.userId}) in organization ${org.slug}\n`);
    return 0;
  } finally {
    await db.close();
  }
}

/** All of stdin, without the one trailing newline `echo` or a terminal adds. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
