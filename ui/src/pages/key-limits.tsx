// A key's budget and rate limits with where they stand now (GET /api/keys/{id}/limits): the key's
// own level first, then what it inherits (its owner's allocation, service account, team, org),
// each window as a progress bar of used / limit.
import { api, type GetKeysByIdLimitsResponse } from '../api/generated.ts';
import { Card, ErrorNote, Loading } from '../components/ui.tsx';
import { LimitsView } from '../components/limits.tsx';
import { useApi } from '../components/use-api.ts';

type Layer = GetKeysByIdLimitsResponse['layers'][number];
const LEVEL: Record<string, string> = { key: 'This key', member: "Owner's allocation in the team", service_account: 'Service account', team: 'Team', org: 'Organization' };

const limited = (l: Layer): boolean => !!l.budget || Object.keys(l.windows).length > 0 || !!l.concurrency;

export function KeyLimits({ keyId, version }: { keyId: number; version: number }) {
  const limits = useApi((signal) => api.getKeysByIdLimits({ path: { id: keyId }, options: { signal } }), [keyId, version]);
  const layers = limits.data?.layers ?? [];
  const shown = layers.filter(limited);
  return (
    <Card title="Budget and limits">
      {limits.error ? <ErrorNote error={limits.error} onRetry={limits.reload} /> : !limits.data ? <Loading /> : shown.length === 0 ? (
        <p class="muted">No budget or rate limit applies to this key.</p>
      ) : (
        shown.map((l) => (
          <div key={l.scope} class="key-layer">
            <h3>{LEVEL[l.level] ?? l.level}</h3>
            <LimitsView layer={l} compact />
          </div>
        ))
      )}
    </Card>
  );
}
