// A real Tollgate app built on a throwaway in-memory SQLite database, for scripts that read what
// the app registers (its routes, its OpenAPI document) without a server or the environment's
// configuration: the configuration is given here, never read from the environment.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config.ts';
import { startRuntime } from '../src/runtime.ts';

export async function withThrowawayApp<T>(fn: (app: FastifyInstance) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-app-'));
  try {
    const config = loadConfig({
      TOLLGATE_DATA_DIR: dir,
      TOLLGATE_DATABASE_URL: 'sqlite::memory:',
      TOLLGATE_ADMIN_KEY: 'routes-listing-only-0123456789abcdef',
      TOLLGATE_LOG_LEVEL: 'error',
    });
    const runtime = await startRuntime(config);
    try {
      return await fn(runtime.app);
    } finally {
      await runtime.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
