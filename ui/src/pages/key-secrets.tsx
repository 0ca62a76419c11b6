// A key's secrets (GET /api/keys/{id}/secrets): the current one and those still in their grace
// period after a rotation (each ended early on request, after confirming), and its rotation
// schedule. Prefixes only: a secret is never shown again after it was issued.
import { api } from '../api/generated.ts';
import { confirmAction } from '../components/dialog.tsx';
import { Table } from '../components/table.tsx';
import { Badge, Button, Card, Details } from '../components/ui.tsx';
import { dateTime, relative } from '../components/format.ts';
import { toast } from '../components/toast.tsx';
import { useApi } from '../components/use-api.ts';
import { ScheduleEditor } from './key-schedule.tsx';

type Secret = { id: number | null; key_prefix: string; status: 'current' | 'grace' | 'ended'; created_at: string; valid_until: string | null; last_used_at: string | null };

export function KeySecrets({ keyId, version, canEnd, onChanged }: { keyId: number; version: number; canEnd: boolean; onChanged: () => void }) {
  const secrets = useApi((signal) => api.getKeysByIdSecrets({ path: { id: keyId }, options: { signal } }), [keyId, version]);
  // Ended secrets are history: the audit log has them.
  const live = secrets.data?.data.filter((s) => s.status !== 'ended');
  const end = async (s: Secret) => {
    const ok = await confirmAction({ title: 'End this secret now?', message: `Requests with ${s.key_prefix} are refused from now on, before its grace period ends.`, confirmLabel: 'End secret' });
    if (!ok || s.id === null) return;
    try {
      await api.deleteKeysByIdSecretsBySecretId({ path: { id: keyId, secretId: s.id } });
      toast('Secret ended');
      secrets.reload();
      onChanged();
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), 'bad');
    }
  };
  const schedule = secrets.data?.rotation_schedule;
  return (
    <Card title="Secrets and rotation">
      <Table<Secret>
        caption="Live secrets"
        rows={live}
        loading={secrets.loading}
        error={secrets.error}
        onRetry={secrets.reload}
        rowKey={(s) => s.id ?? 'current'}
        empty="No live secret"
        columns={[
          { label: 'Secret', render: (s) => <span class="mono">{s.key_prefix}</span> },
          { label: 'State', render: (s) => (s.status === 'current' ? <Badge tone="good">current</Badge> : <Badge tone="warn">grace period</Badge>) },
          { label: 'Issued', render: (s) => dateTime(s.created_at), wide: true },
          { label: 'Works until', render: (s) => (s.valid_until ? dateTime(s.valid_until) : <span class="muted">until rotated</span>) },
          { label: 'Last used', render: (s) => (s.last_used_at ? relative(s.last_used_at) : <span class="muted">never</span>), wide: true },
          { label: 'Actions', render: (s) => (canEnd && s.status === 'grace' ? <Button class="btn-small" variant="danger" onClick={() => end(s)}>End now</Button> : null) },
        ]}
      />
      {schedule && (
        <div class="key-schedule">
          <h3>Rotation schedule</h3>
          {canEnd && <ScheduleEditor keyId={keyId} everyDays={schedule.rotate_every_days} graceSeconds={schedule.grace_period_seconds ?? null} onChanged={secrets.reload} />}
          {schedule.rotate_every_days === null ? (
            <p class="muted">Rotated by hand only.</p>
          ) : (
            <Details items={[
              ['Every', `${schedule.rotate_every_days} days`],
              ['Grace period', `${Math.round((schedule.grace_period_seconds ?? 0) / 3600)} hours`],
              ['Next rotation', dateTime(schedule.next_rotation_at)],
              ['Last rotated', dateTime(schedule.last_rotated_at)],
            ]} />
          )}
        </div>
      )}
    </Card>
  );
}
