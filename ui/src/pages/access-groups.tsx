// Access groups (/ui/access-groups): named sets of models (names and patterns such as "gpt-4o*")
// that the organization, teams and keys grant by id. Admins create, edit and delete them; a group
// still named by a rule is deleted only when the admin confirms removing it from those rules too
// (the API's 409 says who uses it; ?force=true removes it from them, which only narrows them).
import { useState } from 'preact/hooks';
import { api, type GetAccessGroupsResponse } from '../api/generated.ts';
import { ApiFailure } from '../api/transport.ts';
import { confirmAction, Modal } from '../components/dialog.tsx';
import { Field, Form, listOrUndefined, TextArea, TextInput } from '../components/form.tsx';
import { dateTime } from '../components/format.ts';
import { Pager, Table, type Column } from '../components/table.tsx';
import { toast } from '../components/toast.tsx';
import { Button, Card, Empty, PageHeader } from '../components/ui.tsx';
import { useApi } from '../components/use-api.ts';
import { isAdmin } from '../session.ts';
import { attempt } from './team-common.tsx';

type Group = GetAccessGroupsResponse['data'][number];
const PAGE = 100;

export default function AccessGroupsPage() {
  const [offset, setOffset] = useState(0);
  const list = useApi((signal) => api.getAccessGroups({ query: { limit: PAGE, offset }, options: { signal } }), [offset]);
  const [dialog, setDialog] = useState<'create' | Group | null>(null);
  const admin = isAdmin.value;

  const remove = async (g: Group) => {
    if (!(await confirmAction({ title: `Delete access group ${g.name}?`, message: <p>Keys and teams granted models through it lose them.</p>, confirmLabel: 'Delete group' }))) return;
    try {
      await api.deleteAccessGroupsById({ path: { id: g.id } });
      toast(`Access group ${g.name} deleted`);
      list.reload();
    } catch (err) {
      if (!(err instanceof ApiFailure && err.status === 409)) return void toast(err instanceof Error ? err.message : String(err), 'bad');
      // Still named by a rule: say by whom (the API's message) and ask again before forcing.
      const force = await confirmAction({
        title: `${g.name} is still in use`,
        message: <><p>{err.message}</p><p>Delete it anyway? It is removed from those rules, which then allow fewer models.</p></>,
        confirmLabel: 'Delete and remove from rules',
      });
      if (force && (await attempt(() => api.deleteAccessGroupsById({ path: { id: g.id }, query: { force: 'true' } }), `Access group ${g.name} deleted`))) list.reload();
    }
  };

  const columns: Array<Column<Group>> = [
    { label: 'Name', render: (g) => <>{g.name}{g.description && <div class="muted small">{g.description}</div>}</> },
    { label: 'Models', render: (g) => (g.models.length ? <span class="mono group-models">{g.models.join(', ')}</span> : <span class="muted">none</span>) },
    { label: 'Changed', wide: true, render: (g) => dateTime(g.updated_at) },
    ...(admin
      ? [{
          label: 'Actions',
          render: (g: Group) => (
            <div class="row-actions">
              <Button variant="ghost" class="btn-small" onClick={() => setDialog(g)} aria-label={`Edit ${g.name}`}>Edit</Button>
              <Button variant="ghost" class="btn-small" onClick={() => remove(g)} aria-label={`Delete ${g.name}`}>Delete</Button>
            </div>
          ),
        }]
      : []),
  ];
  const close = () => setDialog(null);
  const saved = () => { setDialog(null); list.reload(); };
  return (
    <>
      <PageHeader
        title="Access groups"
        subtitle="Named sets of models. Grant a group to the organization, a team or a key, and it may call the group's models (within what the levels above allow)."
        actions={admin && <Button variant="primary" onClick={() => setDialog('create')}>Create group</Button>}
      />
      <Card>
        <Table caption="Access groups" columns={columns} rows={list.data?.data} rowKey={(g) => g.id} loading={list.loading} error={list.error} onRetry={list.reload} empty={<Empty title="No access groups yet">{admin ? 'Create one, e.g. "cheap-models" with gpt-4o-mini.' : null}</Empty>} />
        <Pager page={offset / PAGE + 1} hasNext={(list.data?.data.length ?? 0) === PAGE} loading={list.loading} onNext={() => setOffset(offset + PAGE)} onPrev={() => setOffset(Math.max(0, offset - PAGE))} />
      </Card>
      <Modal title={dialog === 'create' ? 'Create access group' : dialog ? `Edit ${dialog.name}` : 'Access group'} open={dialog !== null} onClose={close}>
        {dialog && <GroupForm key={dialog === 'create' ? 0 : dialog.id} group={dialog === 'create' ? null : dialog} onClose={close} onSaved={saved} />}
      </Modal>
    </>
  );
}

function GroupForm({ group, onClose, onSaved }: { group: Group | null; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState(group?.name ?? '');
  const [description, setDescription] = useState(group?.description ?? '');
  const [models, setModels] = useState((group?.models ?? []).join(', '));
  const submit = async () => {
    const body = { name, description: description.trim() === '' ? null : description.trim(), models: listOrUndefined(models) ?? [] };
    if (group) await api.patchAccessGroupsById({ path: { id: group.id }, body });
    else await api.postAccessGroups({ body });
    toast(`Access group ${name.trim()} ${group ? 'saved' : 'created'}`);
    onSaved();
  };
  return (
    <Form onSubmit={submit} submitLabel={group ? 'Save' : 'Create group'} onCancel={onClose}>
      <Field name="name" label="Name"><TextInput name="name" value={name} onValue={setName} required /></Field>
      <Field name="description" label="Description"><TextInput name="description" value={description} onValue={setDescription} /></Field>
      <Field name="models" label="Models" hint="names or patterns such as gpt-4o*, separated by commas or new lines">
        <TextArea name="models" value={models} onValue={setModels} rows={4} />
      </Field>
    </Form>
  );
}
