// One key (/ui/keys/:id): its details, actions (edit, rotate, disable / enable, revoke), budget and
// limits with usage, spend and a 30-day chart, live secrets and rotation schedule, and a link to
// its requests. A key the person may not read (someone else's) shows the API's refusal and
// nothing of the key.
import { useState } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import { api } from '../api/generated.ts';
import { ApiFailure } from '../api/transport.ts';
import { Card, Details, Empty, ErrorNote, Loading, PageHeader, StatusBadge } from '../components/ui.tsx';
import { dateTime, relative } from '../components/format.ts';
import { useApi } from '../components/use-api.ts';
import { canRotate, ownerLabel, usePeopleNames, useTeams } from './keys-data.ts';
import { KeyActions } from './key-actions.tsx';
import { KeyLimits } from './key-limits.tsx';
import { KeySpend, KeyUsageChart } from './key-usage.tsx';
import { KeySecrets } from './key-secrets.tsx';
import { KeyRequests } from './key-requests.tsx';

export default function KeyDetailPage() {
  const { params } = useRoute();
  const id = Number(params.id);
  const [version, setVersion] = useState(0);
  const key = useApi((signal) => api.getKeysById({ path: { id }, options: { signal } }), [id, version]);
  const { name: teamName } = useTeams();
  const people = usePeopleNames();
  const changed = () => setVersion((v) => v + 1);

  if (!Number.isInteger(id) || id <= 0) return <NoKey message="This is not a key's address." />;
  if (key.error && !key.data) {
    const f = key.error instanceof ApiFailure ? key.error : null;
    if (f && (f.status === 404 || f.status === 403)) return <NoKey message={f.status === 404 ? 'This key does not exist.' : 'This key is not yours to see.'} />;
    return (<><PageHeader title="Key" /><ErrorNote error={key.error} onRetry={key.reload} /></>);
  }
  const k = key.data;
  if (!k) return <Loading />;
  const expired = k.expires_at !== null && Date.parse(k.expires_at) <= Date.now() && k.status === 'active';
  return (
    <>
      <PageHeader
        title={k.name}
        subtitle={<><StatusBadge status={expired ? 'expired' : k.status} /> <span class="mono">{k.key_prefix}</span></>}
        actions={<KeyActions keyRow={k} onChanged={changed} />}
      />
      <Card title="Details">
        <Details items={[
          ['Team', k.team_id === null ? 'No team' : <a href={`/ui/teams/${k.team_id}`}>{teamName(k.team_id)}</a>],
          ['Owner', ownerLabel(k, people)],
          ['Created', `${dateTime(k.created_at)}${k.created_by ? ` by ${k.created_by}` : ''}`],
          ['Expires', k.expires_at ? dateTime(k.expires_at) : 'Never'],
          ['Last used', k.last_used_at ? relative(k.last_used_at) : 'Never'],
          ...(k.revoked_at ? [['Revoked', dateTime(k.revoked_at)] as [string, string]] : []),
          ['Tags', k.tags.length ? k.tags.join(', ') : '—'],
          ['Models', k.models === null && k.access_groups === null ? "The team's" : [...(k.models ?? []), ...(k.access_groups ?? []).map((g) => `access group #${g}`)].join(', ') || 'None'],
          ['Allowed IPs', k.ip_allowlist.length ? k.ip_allowlist.join(', ') : 'Any'],
          ['Endpoints', k.scopes === '*' ? 'All' : k.scopes],
          ...(k.description ? [['Description', k.description] as [string, string]] : []),
        ]} />
      </Card>
      <KeySpend keyId={id} />
      <div class="grid grid-2 key-panels">
        <KeyLimits keyId={id} version={version} />
        <KeyUsageChart keyId={id} />
      </div>
      {k.status !== 'revoked' && <KeySecrets keyId={id} version={version} canEnd={canRotate(k)} onChanged={changed} />}
      <KeyRequests keyId={id} version={version} />
    </>
  );
}

function NoKey({ message }: { message: string }) {
  return (
    <>
      <PageHeader title="Key not found" />
      <Card>
        <Empty title={message}>
          <a href="/ui/keys">Back to keys</a>
        </Empty>
      </Card>
    </>
  );
}
