// Key events POSTed to the key webhook (TOLLGATE_KEY_WEBHOOK_URL): `key.rotated` (a scheduled
// rotation, carrying the new secret: the only place it is ever sent) and `key.expiring`. Signed
// exactly like budget alerts (policy/alerts.ts): `x-tollgate-signature: t=<unix>,v1=<hex of
// hmac_sha256(secret, t + "." + body)>`, with the event type in `x-tollgate-event`.
import { signature, type AlertSink } from '../policy/alerts.ts';

export interface KeyRotatedEvent {
  type: 'key.rotated';
  org_id: number;
  team_id: number | null;
  key_id: number;
  name: string;
  /** the new secret */
  key: string;
  key_prefix: string;
  rotated_at: string;
  /** the secret it replaces works until valid_until */
  previous_secret: { key_prefix: string; valid_until: string };
  next_rotation_at: string;
}

export interface KeyExpiringEvent {
  type: 'key.expiring';
  org_id: number;
  team_id: number | null;
  key_id: number;
  name: string;
  key_prefix: string;
  expires_at: string;
  at: string;
}

export type KeyEvent = KeyRotatedEvent | KeyExpiringEvent;

const TIMEOUT_MS = 10_000;

/** Delivers to every sink; resolves only if each answered 2xx (the error never holds the body). */
export async function deliverKeyEvent(sinks: AlertSink[], event: KeyEvent, nowMs: number): Promise<void> {
  const body = JSON.stringify(event);
  const t = Math.floor(nowMs / 1000);
  await Promise.all(
    sinks.map(async (sink) => {
      const res = await fetch(sink.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-tollgate-event': event.type, 'x-tollgate-signature': `t=${t},v1=${signature(sink.secret, t, body)}` },
        body,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`key webhook answered HTTP ${res.status} to ${event.type}`);
    }),
  );
}
