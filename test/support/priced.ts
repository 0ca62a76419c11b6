// A gateway with an extra model whose price makes each fake reply cost a round amount:
// "gpt-credits" costs $0.50 per output token, so a default fake reply (12 tokens) costs $6 and
// `max_tokens: n` bounds a request at $n/2 (prompt tokens are free).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type OpenAI from 'openai';
import { startGateway, type Gateway, type GatewayOptions } from './gateway.ts';

export const CREDITS_MODEL = 'gpt-credits';

export async function startPricedGateway(opts: GatewayOptions = {}): Promise<Gateway> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-cfg-'));
  const file = path.join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ pricing: { [CREDITS_MODEL]: { input: 0, output: 500_000_000_000, maxOutputTokens: 12 } } }));
  return startGateway({ ...opts, env: { TOLLGATE_CONFIG: file, ...opts.env } });
}

/** One chat request; resolves to the HTTP status (200, or the error's). */
export async function call(client: OpenAI, model = CREDITS_MODEL, extra: Record<string, unknown> = {}): Promise<number> {
  try {
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });
    return 200;
  } catch (err) {
    return (err as { status: number }).status;
  }
}

/** The error body of a failing request. */
export async function denial(client: OpenAI, model = CREDITS_MODEL): Promise<{ status: number; error: any; headers: Headers }> {
  try {
    await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });
  } catch (err) {
    const e = err as { status: number; error: any; headers: Headers };
    return { status: e.status, error: e.error, headers: e.headers };
  }
  throw new Error('expected the request to be refused');
}
