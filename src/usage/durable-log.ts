// The request log as the runtime uses it: the batched writer, behind the local journal that makes a
// process crash lose nothing answered. Opening it replays what an earlier process left
// uncommitted, before the first request and before any counter is rebuilt from the database.
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Db } from '../db/connection.ts';
import { Journal } from './journal.ts';
import { replayJournal, type ReplayResult } from './journal-replay.ts';
import { logSinkFor } from './log-sinks.ts';
import { LogWriter } from './log-writer.ts';

export interface DurableLog {
  writer: LogWriter;
  journal: Journal | undefined;
  /** what the start-up replay found (undefined without a journal) */
  replay: ReplayResult | undefined;
  /** flushes what is queued, then lets the journal go (deleted if everything was committed) */
  close(): Promise<void>;
}

export interface DurableLogReport {
  flushFailed(err: unknown, writer: LogWriter): void;
  journalFailed(err: unknown): void;
  journalOverflow(rows: number): void;
}

type LogConfig = Pick<Config, 'dataDir' | 'logFlushMs' | 'logBatchSize' | 'logQueueMax' | 'journal' | 'journalFsyncMs' | 'journalMaxMb'>;

export async function openDurableLog(db: Db, config: LogConfig, opts: { usageMinutes: boolean; report: DurableLogReport }): Promise<DurableLog> {
  const sink = logSinkFor(db, { usageMinutes: opts.usageMinutes });
  let journal: Journal | undefined;
  let replay: ReplayResult | undefined;
  if (config.journal) {
    journal = new Journal({
      dir: path.join(config.dataDir, 'journal'),
      fsyncMs: config.journalFsyncMs,
      maxBytes: config.journalMaxMb * 1024 * 1024,
      onError: opts.report.journalFailed,
      onOverflow: opts.report.journalOverflow,
    });
    try {
      replay = await replayJournal(journal, sink, db.kysely, config.logBatchSize);
    } catch (err) {
      journal.close(); // keeps the segments: the next start replays them
      throw err;
    }
  }
  const writer: LogWriter = new LogWriter(sink, {
    flushMs: config.logFlushMs,
    batchSize: config.logBatchSize,
    queueMax: config.logQueueMax,
    onError: (err) => opts.report.flushFailed(err, writer),
    ...(journal ? { journal, firstSeq: replay!.nextSeq } : {}),
  });
  writer.start();
  return {
    writer,
    journal,
    replay,
    async close() {
      await writer.stop().catch(() => {});
      journal?.close();
    },
  };
}
