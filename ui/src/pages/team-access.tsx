// The team's asset set: which models its keys may call. The team's rule (models and access groups:
// an allowlist, or "inherit the organization's"; blocked models) may only narrow the organization's;
// GET /api/teams/{id}/access explains the result model by model. Admins change the rule
// (PATCH /api/teams/{id}); a name the organization does not allow is refused, under its field.
import { useState } from 'preact/hooks';
import { api, type GetTeamsByIdAccessResponse } from '../api/generated.ts';
import { Checkbox, Field, Form, listOrUndefined, TextArea } from '../components/form.tsx';
import { Table } from '../components/table.tsx';
import { toast } from '../components/toast.tsx';
import { Badge, Button, Card, Details, ErrorNote, Loading } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { isAdmin } from '../session.ts';
import type { Team } from './team-detail.tsx';

type Explained = GetTeamsByIdAccessResponse;

export function TeamAccess({ team, onSaved }: { team: Team; onSaved: () => void }) {
  const access = useApi((signal) => api.getTeamsByIdAccess({ path: { id: team.id }, options: { signal } }), [team.id, team.updated_at]);
  const [editing, setEditing] = useState(false);
  const mine = access.data?.levels.find((l) => l.level === 'team');
  return (
    <div class="grid">
      <Card title="The team's rule" actions={isAdmin.value && !editing && <Button onClick={() => setEditing(true)}>Change models</Button>}>
        {editing ? (
          <RuleForm team={team} onDone={() => { setEditing(false); onSaved(); }} onCancel={() => setEditing(false)} />
        ) : (
          <Details
            items={[
              ['Models', team.models === null ? <span class="muted">inherits the organization's</span> : team.models.length ? <span class="mono">{team.models.join(', ')}</span> : <span class="muted">none</span>],
              ['Access groups', mine?.access_groups == null ? <span class="muted">none</span> : mine.access_groups.map((g) => g.name ?? `#${g.id}`).join(', ') || <span class="muted">none</span>],
              ['Blocked models', team.blocked_models.length ? <span class="mono">{team.blocked_models.join(', ')}</span> : <span class="muted">none</span>],
              ['IP allowlist', team.ip_allowlist.length ? <span class="mono">{team.ip_allowlist.join(', ')}</span> : <span class="muted">any address</span>],
            ]}
          />
        )}
      </Card>
      <Card title="What the team's keys may call">
        {access.error && !access.data ? <ErrorNote error={access.error} onRetry={access.reload} /> : !access.data ? <Loading /> : <ModelTable explained={access.data} />}
      </Card>
    </div>
  );
}

function ModelTable({ explained }: { explained: Explained }) {
  return (
    <>
      {explained.catch_all && <p class="muted">A catch-all provider serves any model name no route names.</p>}
      <Table
        caption="Models and whether the team may call them"
        rows={explained.models}
        rowKey={(m) => m.id}
        empty="No model is routed yet."
        columns={[
          { label: 'Model', render: (m) => <span class="mono">{m.id}</span> },
          { label: 'Allowed', render: (m) => (m.allowed ? <Badge tone="good">allowed</Badge> : <Badge tone="bad">refused</Badge>) },
          { label: 'Why', render: (m) => (m.removed_by ? `${m.removed_by.reason === 'blocked' ? 'blocked' : 'not in the allowlist'} of the ${m.removed_by.level}` : m.routed ? '' : 'not routed') },
        ]}
      />
    </>
  );
}

function RuleForm({ team, onDone, onCancel }: { team: Team; onDone: () => void; onCancel: () => void }) {
  const groups = useApi((signal) => api.getAccessGroups({ query: { limit: 1000 }, options: { signal } }), []);
  const [inherit, setInherit] = useState(team.models === null && team.access_groups === null);
  const [models, setModels] = useState((team.models ?? []).join(', '));
  const [chosen, setChosen] = useState<Set<number>>(new Set(team.access_groups ?? []));
  const [blocked, setBlocked] = useState(team.blocked_models.join(', '));
  const toggle = (id: number, on: boolean) => setChosen((s) => { const n = new Set(s); if (on) n.add(id); else n.delete(id); return n; });
  const submit = async () => {
    await api.patchTeamsById({
      path: { id: team.id },
      body: {
        models: inherit ? null : (listOrUndefined(models) ?? []),
        access_groups: inherit ? null : [...chosen],
        blocked_models: listOrUndefined(blocked) ?? [],
      },
    });
    toast('Team models saved');
    onDone();
  };
  return (
    <Form onSubmit={submit} onCancel={onCancel}>
      <Checkbox name="inherit" checked={inherit} onValue={setInherit} label="Inherit the organization's models (no allowlist of its own)" />
      {!inherit && (
        <>
          <Field name="models" label="Models" hint="names or patterns such as gpt-4o*, separated by commas">
            <TextArea name="models" value={models} onValue={setModels} rows={2} />
          </Field>
          <fieldset class="fieldset">
            <legend>Access groups</legend>
            {groups.loading && !groups.data && <Loading />}
            {groups.data?.data.length === 0 && <p class="muted">No access groups yet (<a href="/ui/access-groups">create one</a>).</p>}
            {groups.data?.data.map((g) => <Checkbox key={g.id} name={`access_groups.${g.id}`} checked={chosen.has(g.id)} onValue={(on) => toggle(g.id, on)} label={`${g.name} (${g.models.length} model${g.models.length === 1 ? '' : 's'})`} />)}
          </fieldset>
        </>
      )}
      <Field name="blocked_models" label="Blocked models" hint="never callable by the team's keys, even if allowed above">
        <TextArea name="blocked_models" value={blocked} onValue={setBlocked} rows={2} />
      </Field>
    </Form>
  );
}
