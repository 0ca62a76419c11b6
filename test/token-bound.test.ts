import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promptTokenBound } from '../src/usage/token-bound.ts';
import { promptTokens } from './support/fake-upstream.ts';

test('the prompt bound is never below what the fake (chars/4 + 3 per message) counts, and far tighter than the body', () => {
  const bodies = [
    { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
    { model: 'm', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Explain quantum tunnelling in one line, please.' }] },
    { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'what is in this picture' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,' + 'A'.repeat(50_000) } }] }] },
    { model: 'm', messages: [{ role: 'user', content: '日本語のテキスト' }] },
  ];
  for (const body of bodies) {
    const bytes = Buffer.byteLength(JSON.stringify(body));
    const bound = promptTokenBound('chat/completions', body, bytes);
    assert.ok(bound >= promptTokens(body.messages), `bound ${bound} ≥ counted ${promptTokens(body.messages)}`);
    assert.ok(bound <= bytes, 'never looser than the body itself');
  }
  const image = bodies[2]!;
  assert.ok(promptTokenBound('chat/completions', image, 50_200) < 2_000, 'an image is bounded per part, not by its base64 size');
  assert.equal(promptTokenBound('chat/completions', { messages: 'weird' }, 999), 999, 'unknown shapes fall back to the body size');
  assert.equal(promptTokenBound('embeddings', { input: ['ab', 'cd'] }, 999), 3 + 3 + 3);
  assert.equal(promptTokenBound('completions', { prompt: 'hello' }, 999), 8);
});
