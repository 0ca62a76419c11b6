// The process: config → runtime → listen → drain on SIGTERM/SIGINT.
import { loadConfig, ConfigError } from './config.ts';
import { startRuntime } from './runtime.ts';
import { JournalLockedError } from './usage/journal.ts';
import { loggerOptions } from './logging.ts';

export async function serve(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tollgate: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // JSON lines, or human-readable on a terminal (TOLLGATE_LOG_FORMAT); credentials redacted.
  const logger = loggerOptions(config);
  const runtime = await startRuntime(config, { logger }).catch((err: unknown) => {
    // A second process on the same data dir (refused before it touches the first one's journal),
    // or a configuration only start-up can check (an internal OPENAI_BASE_URL): one line, exit 2.
    if (!(err instanceof JournalLockedError) && !(err instanceof ConfigError)) throw err;
    process.stderr.write(`tollgate: ${err.message}\n`);
    process.exit(2);
  });
  const log = runtime.app.log;
  if (runtime.boot.generatedAdminKey) {
    // Printed once, to the terminal only: it is stored hashed and cannot be shown again.
    process.stdout.write(
      `\n  Tollgate generated a master admin key (shown once; store it now):\n\n    ${runtime.boot.generatedAdminKey}\n\n` +
        `  Set TOLLGATE_ADMIN_KEY to choose your own.\n\n`,
    );
  }
  if (runtime.boot.registeredOpenAI) log.info('registered the OpenAI credential from OPENAI_API_KEY');
  // Loud on purpose: every key of every organization can call a free model while this is on.
  if (config.demo) log.warn('DEMO MODE (TOLLGATE_DEMO): the model `tollgate-demo` answers every key locally with a canned answer at $0, no provider called. For trying Tollgate out; never leave it on in production.');
  // The email and what was done, never the password.
  if (runtime.boot.firstAdmin && runtime.boot.firstAdmin.outcome !== 'unchanged') log.info({ email: config.people.adminEmail, user_id: runtime.boot.firstAdmin.userId, outcome: runtime.boot.firstAdmin.outcome }, 'first admin from TOLLGATE_ADMIN_EMAIL');
  await runtime.app.listen({ host: config.host, port: config.port });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining in-flight requests, then flushing logs');
    const force = setTimeout(() => {
      log.error('shutdown grace period elapsed; exiting');
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    runtime.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: (err as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (import.meta.main) await serve();
