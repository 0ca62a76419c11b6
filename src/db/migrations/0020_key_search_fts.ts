// Frozen once landed. SQLite's index for the key search (issue 12: the keys page searches
// 1,000,000 keys in under 300 ms; docs/benchmarks.md, "Dashboard: keys search"): an FTS5 table
// with the trigram tokenizer over each key's name, prefix and description, which finds the keys
// holding a substring of 3 characters or more without reading every key. PostgreSQL has its
// trigram index since migration 0006 (pg_trgm): nothing to do there.
//
// External content (content='api_keys'): the index holds the trigrams and rowids only, not a
// second copy of the text, and 'rebuild' fills it from api_keys. A contentless table would save
// nothing more and needs its own delete support (contentless_delete, SQLite 3.43). The listing
// never reads the table's columns (it re-checks each match with the LIKE it replaces: the
// tokenizer folds the case of non-ASCII letters too, LIKE only ASCII), only its rowids.
//
// Kept by triggers. The update trigger fires on the three indexed columns only: the log writer
// touches last_used_at on the hot path (usage/log-sinks.ts), and those updates must not rewrite
// the index.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect !== 'sqlite') return;
  const run = (q: string) => sql.raw(q).execute(db);
  await run(`create virtual table keys_fts using fts5(name, key_prefix, description, content='api_keys', content_rowid='id', tokenize='trigram')`);
  const add = `insert into keys_fts (rowid, name, key_prefix, description) values (new.id, new.name, new.key_prefix, new.description)`;
  // An external-content table forgets a row when told the values it indexed.
  const remove = `insert into keys_fts (keys_fts, rowid, name, key_prefix, description) values ('delete', old.id, old.name, old.key_prefix, old.description)`;
  await run(`create trigger keys_fts_insert after insert on api_keys begin ${add}; end`);
  await run(`create trigger keys_fts_delete after delete on api_keys begin ${remove}; end`);
  await run(`create trigger keys_fts_update after update of name, key_prefix, description on api_keys begin ${remove}; ${add}; end`);
  await run(`insert into keys_fts (keys_fts) values ('rebuild')`);
}
