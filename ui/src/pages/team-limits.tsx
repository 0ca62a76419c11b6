// The team's limits and budget (every key of the team counts against them), with what is used now:
// rate windows, parallel requests and the budget's period. Admins change them (PUT replaces: a
// field left empty is cleared); everyone who may read the team sees them.
import { useState } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { Form } from '../components/form.tsx';
import { draftFrom, LimitsEditor, limitsBody, LimitsView, type LimitsDraft, TEAM_FIELDS } from '../components/limits.tsx';
import { toast } from '../components/toast.tsx';
import { Button, Card, ErrorNote, Loading } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { isAdmin } from '../session.ts';
import type { Team } from './team-detail.tsx';

export function TeamLimits({ team, onSaved }: { team: Team; onSaved: () => void }) {
  const limits = useApi((signal) => api.getTeamsByIdLimits({ path: { id: team.id }, options: { signal } }), [team.id]);
  const [draft, setDraft] = useState<LimitsDraft | null>(null);
  const edit = isAdmin.value && !draft && limits.data && <Button onClick={() => setDraft(draftFrom(limits.data!.policy))}>Change limits</Button>;
  const submit = async () => {
    await api.putTeamsByIdLimits({ path: { id: team.id }, body: limitsBody(draft!) });
    toast('Team limits saved');
    setDraft(null);
    limits.reload();
    onSaved();
  };
  return (
    <Card title="Limits & budget" actions={edit}>
      <p class="muted">Every key of the team counts against these, on top of its own limits and its owner's allocation.</p>
      {limits.error && !limits.data ? (
        <ErrorNote error={limits.error} onRetry={limits.reload} />
      ) : !limits.data ? (
        <Loading />
      ) : draft ? (
        <Form onSubmit={submit} submitLabel="Save limits" onCancel={() => setDraft(null)}>
          <LimitsEditor value={draft} onValue={setDraft} fields={TEAM_FIELDS} />
        </Form>
      ) : (
        <LimitsView layer={limits.data} />
      )}
    </Card>
  );
}
