// `tollgate <users|teams|keys|management-keys> <verb> [id] [options]`: scriptable administration
// over the same /api as everything else (so the same permissions, validation and audit trail),
// authenticated by a management key. Prints the API's JSON (or --table); exits 0 on success,
// 1 when the API refused (its message on stderr) or could not be reached, 2 on a usage error.
import { parseArgs } from 'node:util';
import { text } from 'node:stream/consumers';
import { call, CliFailure, connection, usage, type Connection } from './api-client.ts';
import { COMMANDS, type Command, type Values } from './commands.ts';
import { asJson, asTable } from './output.ts';

const COMMON = {
  url: { type: 'string' },
  'key-file': { type: 'string' },
  table: { type: 'boolean' },
  all: { type: 'boolean' },
} as const;

/** Options that would put a secret in argv: refused by name, with what to do instead. */
const SECRET_OPTIONS = /^--(key|management-key|admin-key|token|password)(=|$)/;

export interface CliIo {
  env: NodeJS.ProcessEnv;
  out: (s: string) => void;
  err: (s: string) => void;
  stdin: () => Promise<string>;
}

const processIo: CliIo = {
  env: process.env,
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  stdin: () => text(process.stdin),
};

/** Whether `tollgate <noun> <verb>` is one of these commands (others, e.g. `users create-admin`, are not). */
export function isApiCommand(noun: string | undefined, verb: string | undefined): boolean {
  const verbs = noun === undefined ? undefined : COMMANDS[noun];
  return verbs !== undefined && (verb === undefined || verb === 'help' || Object.hasOwn(verbs, verb));
}

export function apiHelp(noun?: string): string {
  const nouns = noun ? [noun] : Object.keys(COMMANDS);
  const lines = nouns.flatMap((n) => Object.entries(COMMANDS[n] ?? {}).map(([verb, c]) => `  ${`${n} ${verb}${c.arg ? ' <id>' : ''}`.padEnd(30)}${c.summary}`));
  return `${lines.join('\n')}\n\nOptions of every API command: --url <base URL> (default TOLLGATE_URL, else http://127.0.0.1:4000), --key-file <path>
(default: TOLLGATE_MANAGEMENT_KEY), --table (a short table instead of JSON), --all (list: follow every page).
`;
}

export async function runApiCommand(argv: string[], io: CliIo = processIo): Promise<number> {
  const [noun, verb, ...rest] = argv;
  const verbs = noun === undefined ? undefined : COMMANDS[noun];
  if (!verbs || verb === undefined || verb === 'help') {
    (verb === 'help' ? io.out : io.err)(`Usage: tollgate ${noun ?? '<noun>'} <verb> [id] [options]\n\n${apiHelp(noun)}`);
    return verb === 'help' ? 0 : 2;
  }
  const command = verbs[verb];
  if (!command) {
    io.err(`tollgate: unknown command "${noun} ${verb}"\n\n${apiHelp(noun)}`);
    return 2;
  }
  try {
    const secretOption = rest.find((a) => SECRET_OPTIONS.test(a));
    if (secretOption) throw usage(`${secretOption.split('=')[0]}: secrets are never passed as arguments (other users can read them, shells keep them); use TOLLGATE_MANAGEMENT_KEY or --key-file${noun === 'users' ? ', and --password-stdin for a password' : ''}`);
    const { values, positionals } = parseCommand(command, rest);
    const conn = connection(io.env, { url: values.url as string | undefined, keyFile: values['key-file'] as string | undefined });
    for (const w of conn.warnings) io.err(`${w}\n`);
    const result = values.all === true ? await allPages(conn, command, values) : await once(conn, command, values, positionals[0], io);
    io.out(values.table === true ? asTable(result, command.columns) : asJson(result));
    return 0;
  } catch (err) {
    if (!(err instanceof CliFailure)) throw err;
    io.err(`tollgate: ${err.message}\n`);
    return err.exitCode;
  }
}

function parseCommand(command: Command, args: string[]): { values: Values; positionals: string[] } {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: { ...COMMON, ...command.options }, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    throw usage((err as Error).message);
  }
  const max = command.arg ? 1 : 0;
  if (parsed.positionals.length > max) throw usage(`unexpected argument "${parsed.positionals[max]}"`);
  if (parsed.values.all === true && !command.paging) throw usage('--all is for list commands');
  return parsed;
}

async function once(conn: Connection, command: Command, values: Values, id: string | undefined, io: CliIo): Promise<unknown> {
  const req = await command.build(values, id, io.stdin);
  return call(conn, req.method, req.path, { query: req.query, body: req.method === 'GET' || req.method === 'DELETE' ? undefined : req.body });
}

/** Every page of a listing, as one `{data}`. */
async function allPages(conn: Connection, command: Command, values: Values): Promise<{ data: unknown[] }> {
  const req = await command.build(values, undefined, async () => '');
  const query = { ...req.query };
  const data: unknown[] = [];
  for (;;) {
    const page = await call(conn, req.method, req.path, { query });
    const rows: unknown[] = Array.isArray(page?.data) ? page.data : [];
    data.push(...rows);
    if (command.paging === 'after' && page.next_after != null) query.after = page.next_after;
    else if (command.paging === 'cursor' && page.next_cursor != null) query.cursor = page.next_cursor;
    else if (command.paging === 'offset' && rows.length > 0 && rows.length === page.limit) query.offset = Number(query.offset ?? 0) + rows.length;
    else return { data };
  }
}
