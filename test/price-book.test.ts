// The shipped price book as data (src/usage/price-book.json): every entry valid, dated and sourced,
// converted to micro-USD exactly once; names looked up as providers and OpenRouter spell them; an
// organization's prices over config over shipped; cached input charged at its own price.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import book from '../src/usage/price-book.json' with { type: 'json' };
import { BUILTIN_PRICES, PRICE_BOOK_AS_OF, PriceBook, SHIPPED, priceNames, readBook, toMicro, usageCostMicro, costMicro } from '../src/usage/pricing.ts';
import { orgPriceBook } from '../src/usage/price-book.ts';
import { loadConfig } from '../src/config.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const row = (model: string, input: number, output: number, cached: number | null = null) => ({ model, input_micro: input, output_micro: output, cached_input_micro: cached, max_output_tokens: null });

describe('shipped price book', () => {
  test('every entry is priced, dated and sourced; no name twice; the book is dated', () => {
    assert.match(book.as_of, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(PRICE_BOOK_AS_OF, book.as_of);
    const names = new Set<string>();
    for (const e of book.models) {
      for (const n of [e.model, ...((e as { aliases?: string[] }).aliases ?? [])]) {
        assert.ok(!names.has(n), `${n} is in the book twice`);
        names.add(n);
      }
      assert.match(e.as_of, /^\d{4}-\d{2}-\d{2}$/, e.model);
      assert.ok(e.as_of <= book.as_of, `${e.model} is dated after the book`);
      assert.match(e.source, /^https:\/\/[a-z0-9.-]+\//, e.model);
      assert.ok(e.input >= 0 && e.output >= 0, e.model);
      // A generation model that costs nothing would be a $0 hole in every budget.
      if (!/embed/.test(e.model)) assert.ok(e.input > 0 && e.output > 0, `${e.model} must not be free`);
      const cached = (e as { cached_input?: number }).cached_input;
      if (cached !== undefined) assert.ok(cached < e.input, `${e.model}: cached input is a discount`);
    }
    assert.equal(SHIPPED.size, book.models.length);
  });

  test('every provider Tollgate ships has its common models priced', () => {
    for (const m of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'gpt-4.1-nano', 'o3', 'o4-mini', 'gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'text-embedding-3-small', 'text-embedding-3-large',
      'claude-opus-4-1', 'claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-3-5-haiku-latest', 'gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite', 'gemini-2.0-flash',
      'mistral-large-latest', 'mistral-small-latest', 'codestral-latest', 'deepseek-chat', 'deepseek-reasoner', 'grok-4', 'llama-3.3-70b-versatile',
      'meta-llama/Llama-3.3-70B-Instruct-Turbo', 'accounts/fireworks/models/llama-v3p3-70b-instruct']) {
      assert.ok(SHIPPED.get(m), `${m} is not in the shipped book`);
    }
    const providers = new Set([...SHIPPED.values()].map((e) => e.provider));
    assert.deepEqual([...providers].sort(), ['anthropic', 'deepseek', 'fireworks', 'google', 'groq', 'mistral', 'openai', 'together', 'xai']);
  });

  test('USD per 1M becomes exact integer micro-USD (no float residue), the former built-in values kept', () => {
    for (const e of SHIPPED.values()) {
      for (const v of [e.price.input, e.price.output, e.price.cachedInput ?? 0]) assert.ok(Number.isSafeInteger(v), `${e.model}: ${v}`);
    }
    assert.deepEqual(BUILTIN_PRICES['gpt-4o-mini'], { input: 150_000, output: 600_000, cachedInput: 75_000, maxOutputTokens: 16_384, imageTokens: 48_169 });
    assert.deepEqual(BUILTIN_PRICES['gpt-4.1-nano'], { input: 100_000, output: 400_000, cachedInput: 25_000, maxOutputTokens: 32_768, imageTokens: 3_779 });
    assert.deepEqual(BUILTIN_PRICES['o4-mini'], { input: 1_100_000, output: 4_400_000, cachedInput: 275_000, maxOutputTokens: 100_000, imageTokens: 2_642 });
    assert.equal(BUILTIN_PRICES['claude-3-5-haiku-latest']!.input, 800_000);
    assert.equal(BUILTIN_PRICES['deepseek-chat']!.cachedInput, 28_000);
    assert.equal(toMicro(0.075), 75_000);
    assert.equal(toMicro(0.1 + 0.2), 300_000, 'float noise is not a seventh decimal');
    assert.equal(toMicro(0.0000001), undefined, 'a seventh decimal is refused, not rounded away');
    assert.equal(toMicro(-1), undefined);
    assert.equal(toMicro(Number.POSITIVE_INFINITY), undefined);
    assert.equal(toMicro(1_000_001), undefined);
  });

  test('a bad entry stops loading, naming it', () => {
    const ok = { model: 'm', provider: 'p', input: 1, output: 2, source: 'https://example.com/pricing', as_of: '2025-01-01' };
    assert.throws(() => readBook({ as_of: '2025-01-01', models: [{ ...ok, input: -1 }] }), /models\[0\] \(m\): input/);
    assert.throws(() => readBook({ as_of: '2025-01-01', models: [{ ...ok, as_of: 'soon' }] }), /as_of/);
    assert.throws(() => readBook({ as_of: '2025-01-01', models: [{ ...ok, source: 'a page' }] }), /source/);
    assert.throws(() => readBook({ as_of: '2025-01-01', models: [{ ...ok, max_output_tokens: 1.5 }] }), /max_output_tokens/);
  });

  test('prefixed, dated and alias names find the same entry; a :variant and prototype names do not', () => {
    const b = new PriceBook({});
    const gpt4o = b.lookup('gpt-4o');
    for (const n of ['openai/gpt-4o', 'gpt-4o-2024-08-06', 'openai/gpt-4o-2024-11-20']) assert.equal(b.lookup(n), gpt4o, n);
    assert.equal(b.lookup('gpt-4o-2024-05-13')!.input, 5_000_000, 'a snapshot with its own price keeps it');
    const sonnet = b.lookup('claude-sonnet-4-5');
    for (const n of ['anthropic/claude-sonnet-4-5', 'anthropic/claude-sonnet-4.5', 'claude-sonnet-4-5-20250929', 'claude-sonnet-4.5']) assert.equal(b.lookup(n), sonnet, n);
    assert.equal(b.lookup('claude-3-5-haiku-20241022'), b.lookup('claude-3-5-haiku-latest'));
    assert.equal(b.lookup('google/gemini-2.5-flash'), b.lookup('gemini-2.5-flash'));
    assert.equal(b.lookup('models/gemini-2.5-flash'), b.lookup('gemini-2.5-flash'));
    assert.equal(b.lookup('x-ai/grok-4'), b.lookup('grok-4'));
    assert.equal(b.find('grok-4-0709')?.name, 'grok-4');
    assert.equal(b.lookup('meta-llama/llama-3.3-70b-instruct:free'), undefined, 'a free variant is not the paid price');
    for (const n of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) assert.equal(b.lookup(n), undefined, n);
    assert.deepEqual(priceNames('openai/gpt-4o-2024-08-06'), ['openai/gpt-4o-2024-08-06', 'openai/gpt-4o', 'gpt-4o-2024-08-06', 'gpt-4o']);
  });

  test('config pricing over shipped; an organization\'s price over both, for every name that resolves to it', () => {
    const base = new PriceBook({ 'gpt-4o': { input: 1, output: 2 }, 'house-model': { input: 3, output: 4 } });
    assert.deepEqual(base.find('openai/gpt-4o'), { price: { input: 1, output: 2 }, source: 'config', name: 'gpt-4o' });
    assert.equal(base.find('gpt-4o-mini')?.source, 'shipped');
    const org = orgPriceBook([row('gpt-4o', 7, 8, 5), row('claude-sonnet-4-5', 9, 10)], base);
    assert.deepEqual(org.lookup('openai/gpt-4o-2024-08-06'), { input: 7, output: 8, cachedInput: 5 });
    assert.equal(org.source('gpt-4o'), 'organization');
    assert.equal(org.source('anthropic/claude-sonnet-4.5'), 'organization', 'an alias resolves to the overridden name');
    assert.equal(org.source('house-model'), 'config');
    assert.equal(org.source('gpt-4o-mini'), 'shipped');
    assert.equal(org.source('no-such-model'), undefined);
    assert.equal(org.lookup('no-such-model'), undefined, 'unpriced stays unpriced, never $0');
    // The most specific name wins: a shipped snapshot price is not overridden by the family's.
    assert.equal(org.lookup('gpt-4o-2024-05-13')!.input, 5_000_000);
    assert.equal(orgPriceBook([], base).find('gpt-4o')?.source, 'config');
  });

  test('cached input at its own price; without one, charged as input; rounded up', () => {
    const p = BUILTIN_PRICES['gpt-4o']!; // $2.50 in, $1.25 cached, $10 out per 1M
    assert.equal(usageCostMicro(p, { tokensIn: 1000, tokensOut: 100, cachedTokens: 600 }), Math.ceil((400 * 2_500_000 + 600 * 1_250_000 + 100 * 10_000_000) / 1e6));
    assert.equal(usageCostMicro(p, { tokensIn: 1000, tokensOut: 100, cachedTokens: 600 }), 2750);
    assert.equal(usageCostMicro(p, { tokensIn: 1000, tokensOut: 100 }), costMicro(p, 1000, 100));
    assert.equal(usageCostMicro(BUILTIN_PRICES['gpt-3.5-turbo']!, { tokensIn: 1000, tokensOut: 0, cachedTokens: 900 }), 500, 'no cached price: all input at the input price');
    assert.equal(usageCostMicro(p, { tokensIn: 10, tokensOut: 0, cachedTokens: 50 }), 13, 'cached tokens count at most the input tokens (10 × $1.25 per 1M = 12.5 µ$, rounded up)');
    assert.equal(usageCostMicro(BUILTIN_PRICES['gpt-5-nano']!, { tokensIn: 1, tokensOut: 0 }), 1, 'a fraction of a micro-USD is charged as one');
  });

  test('config pricing: cached input is taken; a misspelt or malformed price field stops start-up, naming it', () => {
    const withFile = (pricing: unknown) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-pricing-'));
      const file = path.join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ pricing }));
      try {
        return loadConfig({ TOLLGATE_CONFIG: file, TOLLGATE_DATA_DIR: dir }).pricing;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    assert.deepEqual(withFile({ house: { input: 3_000_000, output: 12_000_000, cachedInput: 300_000, maxOutputTokens: 4096 } }).house, { input: 3_000_000, output: 12_000_000, cachedInput: 300_000, maxOutputTokens: 4096 });
    assert.throws(() => withFile({ house: { input: 1, output: 2, cached_input: 1 } }), /pricing\.house\.cached_input: not a price field/);
    assert.throws(() => withFile({ house: { input: 1, output: 2, cachedInput: 0.5 } }), /pricing\.house\.cachedInput: must be a non-negative integer/);
    assert.throws(() => withFile({ house: { input: 1, output: 2, maxOutputTokens: '4096' } }), /pricing\.house\.maxOutputTokens/);
  });
});
