// A key's budget and rate limits with where they stand now (GET /api/keys/{id}/limits): the key's
// own level first, then what it inherits (its owner's allocation, service account, team, org),
// each window as a progress bar of used / limit.
import { api, type GetKeysByIdLimitsResponse } from '../api/generated.ts';
import { Card, ErrorNote, Loading, Progress } from '../components/ui.tsx';
import { dateTime, int, usd } from '../components/format.ts';
import { useApi } from '../components/use-api.ts';

type Layer = GetKeysByIdLimitsResponse['layers'][number];
const LEVEL: Record<string, string> = { key: 'This key', member: "Owner's allocation in the team", service_account: 'Service account', team: 'Team', org: 'Organization' };
const WINDOW: Record<string, string> = { rpm: 'Requests per minute', rph: 'Requests per hour', rpd: 'Requests per day', tpm: 'Tokens per minute', tpd: 'Tokens per day' };

function LayerView({ layer }: { layer: Layer }) {
  const windows = Object.entries(layer.windows);
  const b = layer.budget;
  if (!b && windows.length === 0 && !layer.concurrency) return null;
  return (
    <div class="key-layer">
      <h3>{LEVEL[layer.level] ?? layer.level}</h3>
      <ul class="key-limits">
        {b && (
          <li>
            <div class="key-limit-row"><span>Budget ({b.period}, {b.mode})</span><span class="num">{usd(b.spent_usd)} of {usd(b.limit_usd)}</span></div>
            <Progress used={b.spent_usd + b.reserved_usd} limit={b.limit_usd} label={`${LEVEL[layer.level] ?? layer.level}: budget used`} />
            <div class="small muted">{usd(b.remaining_usd)} left{b.resets_at ? `, resets ${dateTime(b.resets_at)}` : ''}</div>
          </li>
        )}
        {windows.map(([name, w]) => (
          <li key={name}>
            <div class="key-limit-row"><span>{WINDOW[name] ?? name}</span><span class="num">{int(w.used)} of {int(w.limit)}</span></div>
            <Progress used={w.used} limit={w.limit} label={`${LEVEL[layer.level] ?? layer.level}: ${WINDOW[name] ?? name} used`} />
          </li>
        ))}
        {layer.concurrency && (
          <li><div class="key-limit-row"><span>Parallel requests</span><span class="num">{int(layer.concurrency.in_flight)} of {int(layer.concurrency.limit)}</span></div></li>
        )}
      </ul>
    </div>
  );
}

export function KeyLimits({ keyId, version }: { keyId: number; version: number }) {
  const limits = useApi((signal) => api.getKeysByIdLimits({ path: { id: keyId }, options: { signal } }), [keyId, version]);
  const layers = limits.data?.layers ?? [];
  const shown = layers.filter((l) => l.budget || Object.keys(l.windows).length > 0 || l.concurrency);
  return (
    <Card title="Budget and limits">
      {limits.error ? <ErrorNote error={limits.error} onRetry={limits.reload} /> : !limits.data ? <Loading /> : shown.length === 0 ? (
        <p class="muted">No budget or rate limit applies to this key.</p>
      ) : (
        shown.map((l) => <LayerView key={l.scope} layer={l} />)
      )}
    </Card>
  );
}
