// Start-up: the journal rows an earlier process enqueued but did not commit go into the database,
// exactly once, before anything reads the logs, the rollups or the counters rebuilt from them.
//
// Exactly once: journal_marks holds, per journal, the seq of the last committed row, written in
// the same transaction as the rows. A row is replayed only if its seq is above the mark, in
// batches that each move the mark in their own transaction — so a replay interrupted by another
// crash resumes where it stopped, and replaying the same segments twice inserts nothing twice.
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import type { Journal } from './journal.ts';
import type { LogSink } from './log-sinks.ts';
import { writeBatch, type LogRow } from './log-writer.ts';

export interface ReplayResult {
  /** rows inserted (they were answered but not yet committed when the earlier process stopped) */
  replayed: number;
  /** rows already committed (left in a segment that was not deleted yet) */
  skipped: number;
  /** lines that did not parse: a torn tail after an OS crash */
  bad: number;
  /** the seq the journal goes on from */
  nextSeq: number;
}

export async function journalMark(db: Kysely<Database>, journalId: string): Promise<number> {
  const row = await db.selectFrom('journal_marks').select('seq').where('journal_id', '=', journalId).executeTakeFirst();
  return row ? Number(row.seq) : 0;
}

/** Replays the leftover segments, then starts the journal after the highest seq seen. */
export async function replayJournal(journal: Journal, sink: LogSink, db: Kysely<Database>, batchSize: number): Promise<ReplayResult> {
  const mark = await journalMark(db, journal.id);
  const result: ReplayResult = { replayed: 0, skipped: 0, bad: 0, nextSeq: mark + 1 };
  let committed = mark;
  let batch: LogRow[] = [];
  let batchLast = 0;
  const commit = async () => {
    if (batch.length === 0) return;
    await writeBatch(sink, batch, { journalId: journal.id, seq: batchLast });
    result.replayed += batch.length;
    committed = batchLast;
    batch = [];
  };
  for (const segment of journal.leftover()) {
    result.bad += segment.bad;
    for (const { seq, row } of segment.rows) {
      if (seq >= result.nextSeq) result.nextSeq = seq + 1;
      // Seqs only grow within a journal; one at or below what is committed is not replayed again.
      if (seq <= committed || seq <= batchLast) {
        result.skipped++;
        continue;
      }
      batch.push(row);
      batchLast = seq;
      if (batch.length >= batchSize) await commit();
    }
  }
  await commit();
  journal.start(result.nextSeq);
  return result;
}
