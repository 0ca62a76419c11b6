// `tollgate` — the operator's command line: serve, migrate, and scriptable admin tasks.
import { parseArgs } from 'node:util';
import { loadConfig } from './config.ts';
import { openDb } from './db/connection.ts';
import { migrate } from './db/migrate.ts';

const HELP = `tollgate — self-hosted, OpenAI-compatible LLM gateway with team API key management

Usage: tollgate <command> [options]

Commands:
  serve                 Run the gateway (same as npm start)
  migrate               Apply database migrations and exit
  admin rotate-master   Generate a new master admin key, store its hash, print it once
  admin reencrypt       Re-seal provider credentials under the newest TOLLGATE_ENCRYPTION_KEY version
  users create-admin --email E --password-stdin [--org SLUG] [--reset]
                        An org admin who can sign in (password read from stdin), made in the database
  audit verify [--org N]
                        Check the audit trail's hash chain of each organization; print the first broken link (exit 1)
  users|teams|keys|management-keys <verb> [id] [options]
                        Administration over the API with a management key (TOLLGATE_URL,
                        TOLLGATE_MANAGEMENT_KEY or --key-file); \`tollgate keys help\` lists the verbs
  help                  Show this help

Configuration comes from TOLLGATE_* environment variables (see README.md#configuration).
`;

export async function cli(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, strict: false, options: { help: { type: 'boolean', short: 'h' } } });
  const [command, sub] = positionals;
  if (values.help || !command || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === 'serve') {
    const { serve } = await import('./main.ts');
    await serve();
    return -1;
  }
  // The API subcommands are clients of a running gateway: no server configuration, no database.
  if (command === 'users' || command === 'teams' || command === 'keys' || command === 'management-keys') {
    const api = await import('./cli/api-commands.ts');
    if (api.isApiCommand(command, sub)) return api.runApiCommand(argv.slice(argv.indexOf(command)));
  }
  const config = loadConfig();
  if (command === 'migrate') {
    const db = openDb(config.databaseUrl);
    try {
      const applied = await migrate(db);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
    } finally {
      await db.close();
    }
    return 0;
  }
  if (command === 'admin' && sub === 'rotate-master') {
    const { rotateMasterKey } = await import('./http/master-key.ts');
    const db = openDb(config.databaseUrl);
    try {
      await migrate(db);
      process.stdout.write(`${await rotateMasterKey(db.kysely)}\n`);
    } finally {
      await db.close();
    }
    return 0;
  }
  if (command === 'admin' && sub === 'reencrypt') {
    const { loadVault } = await import('./vault/crypto.ts');
    const { resealCredentials } = await import('./vault/credentials.repository.ts');
    const { vault } = loadVault(config.encryptionKey, config.dataDir);
    const db = openDb(config.databaseUrl);
    try {
      await migrate(db);
      const { resealed, total } = await resealCredentials(db.kysely, vault);
      process.stdout.write(`re-sealed ${resealed} of ${total} provider credentials under key version ${vault.currentVersion}\n`);
    } finally {
      await db.close();
    }
    return 0;
  }
  if (command === 'users' && sub === 'create-admin') {
    // Straight to the database, not over the API: how an operator gets in (or back in).
    const { createAdminCommand } = await import('./auth/first-admin-cli.ts');
    return createAdminCommand(config, argv.slice(argv.indexOf('create-admin') + 1));
  }
  if (command === 'audit' && sub === 'verify') {
    const { auditVerifyCommand } = await import('./audit/verify-cli.ts');
    return auditVerifyCommand(config, argv.slice(argv.indexOf('verify') + 1));
  }
  process.stderr.write(`tollgate: unknown command "${positionals.join(' ')}"\n\n${HELP}`);
  return 2;
}

if (import.meta.main) {
  const code = await cli(process.argv.slice(2));
  if (code >= 0) process.exit(code);
}
