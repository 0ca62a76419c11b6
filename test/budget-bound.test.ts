// A hard budget's reservation is a true upper bound of what the provider can bill: `n` choices
// are each billed up to max_tokens, so 50 concurrent requests asking for 100 choices each must
// not spend past the cap. What cannot be bounded (audio output, unknown fields) is refused by a
// hard budget with the field named, and passes where no hard budget applies.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGateway, type Gateway } from './support/gateway.ts';

// $0.001 per output token; prompt tokens free.
const PRICE = { input: 0, output: 1_000_000_000, maxOutputTokens: 20 };

/** Honours `n` as OpenAI does: n choices, each up to max_tokens, all billed. */
function choicesUpstream(): { server: Server; billedTokens: () => number } {
  let billed = 0;
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      const n = body.n ?? 1;
      const perChoice = body.max_tokens ?? 20;
      billed += n * perChoice;
      const choices = Array.from({ length: n }, (_, i) => ({ index: i, message: { role: 'assistant', content: 'tok '.repeat(perChoice).trim() }, logprobs: null, finish_reason: 'length' }));
      const out = JSON.stringify({ id: 'chatcmpl-n', object: 'chat.completion', created: 1, model: body.model, choices, usage: { prompt_tokens: 5, completion_tokens: n * perChoice, total_tokens: 5 + n * perChoice } });
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
        res.end(out);
      }, 30);
    });
  });
  return { server, billedTokens: () => billed };
}

describe('reservations bound every field that multiplies cost', () => {
  let gw: Gateway;
  let up: ReturnType<typeof choicesUpstream>;
  before(async () => {
    up = choicesUpstream();
    await new Promise<void>((r) => up.server.listen(0, '127.0.0.1', r));
    const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-cfg-'));
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ pricing: { 'gpt-n': PRICE } }));
    gw = await startGateway({ env: { TOLLGATE_CONFIG: path.join(dir, 'config.json') } });
    const base = `http://127.0.0.1:${(up.server.address() as AddressInfo).port}/v1`;
    assert.equal((await gw.api('POST', '/api/providers', { name: 'choices', provider: 'openai-compatible', base_url: base, api_key: 'sk-choices-1234', models: ['gpt-n'] })).status, 201);
  });
  after(async () => {
    await gw?.close();
    up?.server.close();
  });

  async function cappedKey(name: string, usd: number): Promise<{ key: string; id: number; team: number }> {
    const team = (await gw.api('POST', '/api/teams', { name })).body;
    const created = (await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body;
    assert.equal((await gw.api('PUT', `/api/keys/${created.id}/limits`, { max_budget_usd: usd, budget_period: 'total', budget_mode: 'hard' })).status, 200);
    return { key: created.key, id: created.id, team: team.id };
  }

  test('50 concurrent requests with n=100 never spend past a hard budget', async () => {
    const { key, id } = await cappedKey('n-choices', 5);
    const client = gw.openai(key);
    const results = await Promise.all(Array.from({ length: 50 }, () =>
      client.chat.completions.create({ model: 'gpt-n', messages: [{ role: 'user', content: 'hi' }], max_tokens: 20, n: 100 }).then(() => 200, (e: { status: number }) => e.status)));
    await gw.flush();
    const budget = (await gw.api('GET', `/api/keys/${id}/limits`)).body.layers.find((l: any) => l.level === 'key').budget;
    assert.ok(budget.spent_usd <= 5, `spent $${budget.spent_usd} of a $5 hard budget (the upstream billed ${up.billedTokens()} tokens)`);
    assert.equal(results.filter((s) => s === 200).length, 2, 'each request reserves $2 (100 choices × 20 tokens): two fit in $5');
    assert.equal(budget.spent_usd, 4);
    assert.equal(budget.reserved_usd, 0);
  });

  test('a hard budget refuses what it cannot bound, naming the field; without one it passes', async () => {
    const { key } = await cappedKey('unbounded', 100);
    const before = up.billedTokens();
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-n', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, modalities: ['text', 'audio'] }),
    });
    const body = (await res.json()) as any;
    assert.equal(res.status, 400);
    assert.equal(body.error.code, 'cost_unbounded');
    assert.equal(body.error.param, 'modalities');
    assert.match(body.error.message, /hard budget/);
    assert.equal(up.billedTokens(), before, 'nothing reached the provider');

    const free = (await gw.api('POST', '/api/teams', { name: 'no budget' })).body;
    const freeKey = (await gw.api('POST', `/api/teams/${free.id}/keys`, { name: 'k' })).body.key;
    const ok = await gw.openai(freeKey).chat.completions.create({ model: 'gpt-n', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5, some_vendor_field: true } as any);
    assert.equal(ok.choices.length, 1, 'no hard budget: unknown fields pass through');
  });
});
