// POST /api/invitations replayed with the same Idempotency-Key: the stored answer, without the
// token and link (a secret is shown once), still matches the response schema the OpenAPI
// document declares (under test every answer is checked against it; a mismatch is a 500).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_KEY, startGateway, type Gateway } from './support/gateway.ts';

describe('invitation replay', () => {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway();
  });
  after(() => gw?.close());

  test('the replay leaves the token and link out and is still a valid answer', async () => {
    const send = () =>
      fetch(`${gw.url}/api/invitations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', 'idempotency-key': 'invite-grace-1' },
        body: JSON.stringify({ email: 'grace@example.com' }),
      });
    const first = await send();
    assert.equal(first.status, 201);
    const created = (await first.json()) as { id: number; token?: string };
    assert.ok(created.token, 'the first answer has the token');
    const again = await send();
    assert.equal(again.status, 201, await again.clone().text());
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const replayed = (await again.json()) as { id: number; token?: string; url?: string };
    assert.equal(replayed.id, created.id);
    assert.equal(replayed.token, undefined);
    assert.equal(replayed.url, undefined);
    assert.match(again.headers.get('idempotent-secret-omitted') ?? '', /token/);
  });
});
