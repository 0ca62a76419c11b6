// Frozen once landed. SQLite's index for the key listing's tag filter (issue 12: the keys page at
// 1,000,000 keys; docs/benchmarks.md, "Dashboard: keys search"): tags are a JSON array in a text
// column, and a rare tag (`tag=pci`, 0.01% of keys) was a json_each check of every key (API p95
// 0.5–1.5 s). key_tags holds one (tag, key id) row per tag of each key, so the keys carrying a tag
// are one range of its primary key. PostgreSQL has its GIN index on tags::jsonb since migration
// 0006: nothing to do there.
//
// The rows are exactly what the listing's JSON check compared: the array's top-level elements that
// are JSON strings (`json_each(tags) where value = ?` never matches a number or null to a string
// parameter), case and every character kept. A tag written twice in one array is one row.
//
// Without rowid: the table is its primary key (tag, key_id), nothing stored twice.
//
// Kept by triggers. The update trigger fires on tags only: the log writer touches last_used_at on
// the hot path (usage/log-sinks.ts), and those updates must not write key_tags.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  if (dialect !== 'sqlite') return;
  const run = (q: string) => sql.raw(q).execute(db);
  await run(`create table key_tags (tag text not null, key_id integer not null, primary key (tag, key_id)) without rowid`);
  const tagsOf = (k: string) => `select distinct j.value, ${k}.id from json_each(${k}.tags) j where j.type = 'text'`;
  const add = `insert or ignore into key_tags (tag, key_id) ${tagsOf('new')}`;
  // By primary key, one range per tag the key had.
  const remove = `delete from key_tags where key_id = old.id and tag in (select j.value from json_each(old.tags) j where j.type = 'text')`;
  await run(`create trigger key_tags_insert after insert on api_keys begin ${add}; end`);
  await run(`create trigger key_tags_delete after delete on api_keys begin ${remove}; end`);
  await run(`create trigger key_tags_update after update of tags on api_keys begin ${remove}; ${add}; end`);
  await run(`insert or ignore into key_tags (tag, key_id) select j.value, k.id from api_keys k, json_each(k.tags) j where j.type = 'text'`);
}
