// A request's log row (and with it the crash journal line and the spend) is written BEFORE the
// client gets the last of its answer: the JSON body's end, or a stream's `data: [DONE]`. A process
// killed at any instant can then never leave an answer the client saw complete without its row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerResponse } from 'node:http';
import { startGateway } from './support/gateway.ts';

/** Tollgate's own answers (the fake upstream in this process answers requests too). */
const ours = (res: ServerResponse): boolean => String(res.req?.headers.authorization ?? '').startsWith('Bearer sk-tg-');

test('the log row is enqueued before the answer completes (JSON, stream, upstream error)', async () => {
  const gw = await startGateway();
  const events: string[] = [];
  const writer = gw.runtime.deps.logWriter;
  const enqueue = writer.enqueue.bind(writer);
  writer.enqueue = (row) => {
    events.push(`log ${row.status_code}`);
    enqueue(row);
  };
  const { end, write } = ServerResponse.prototype;
  ServerResponse.prototype.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    if (ours(this) && String(chunk).includes('[DONE]')) events.push('done');
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof write;
  ServerResponse.prototype.end = function (this: ServerResponse, ...args: unknown[]) {
    if (ours(this)) events.push('end');
    return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof end;
  try {
    const team = (await gw.api('POST', '/api/teams', { name: 'order' })).body;
    const client = gw.openai((await gw.api('POST', `/api/teams/${team.id}/keys`, { name: 'k' })).body.key);

    events.length = 0;
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    assert.deepEqual(events, ['log 200', 'end'], 'JSON answer');

    events.length = 0;
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], stream: true });
    for await (const _ of stream) { /* drain */ }
    assert.deepEqual(events, ['log 200', 'done', 'end'], 'streamed answer: [DONE] is held back until the row is written');

    events.length = 0;
    await client.chat.completions.create({ model: 'error-503', messages: [{ role: 'user', content: 'hi' }] }).catch(() => {});
    assert.deepEqual(events, ['log 502', 'end'], 'upstream failure');
  } finally {
    ServerResponse.prototype.end = end;
    ServerResponse.prototype.write = write;
    await gw.close();
  }
});
