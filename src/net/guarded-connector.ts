// The SSRF guard at connect time, as an undici connector (a Pool's `connect` option): host names
// resolve through guardedLookup, and a literal address — which net.connect never looks up, so a
// `lookup` option alone would not see it — is checked before any socket is opened. Covers what the
// write-time check cannot: DNS that changed since (rebinding), rows saved before the guard existed,
// and an allowlist narrowed since.
import { buildConnector } from 'undici';
import { deniedError, type UpstreamGuard } from './ssrf.ts';

export function guardedConnector(guard: UpstreamGuard, options: buildConnector.BuildOptions = {}): buildConnector.connector {
  const connect = buildConnector({ ...options, lookup: guard.guardedLookup });
  return (target, callback) => {
    const refused = guard.checkUpstreamHost(target.hostname);
    if (refused) return callback(deniedError(refused), null);
    connect(target, callback);
  };
}
