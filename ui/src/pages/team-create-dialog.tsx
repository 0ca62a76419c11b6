// "Create team" (admins): name, optional slug and description, and its limits and budget given
// inline (POST /api/teams takes them with the team, in one audited change).
import { useState } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { Modal } from '../components/dialog.tsx';
import { Field, Form, TextArea, TextInput } from '../components/form.tsx';
import { draftFrom, LimitsEditor, limitsBody, TEAM_FIELDS } from '../components/limits.tsx';
import { toast } from '../components/toast.tsx';

export function TeamCreateDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: () => void }) {
  return (
    <Modal title="Create team" open={open} onClose={onClose} wide>
      {open && <CreateForm onClose={onClose} onCreated={onCreated} />}
    </Modal>
  );
}

function CreateForm({ onClose, onCreated }: { onClose: () => void; onCreated: () => void }) {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [description, setDescription] = useState('');
  const [limits, setLimits] = useState(draftFrom());
  const submit = async () => {
    const team = await api.postTeams({
      body: { name, ...(slug.trim() ? { slug: slug.trim() } : {}), ...(description.trim() ? { description: description.trim() } : {}), ...limitsBody(limits) },
    });
    toast(`Team ${team.name} created`);
    onCreated();
    onClose();
  };
  return (
    <Form onSubmit={submit} submitLabel="Create team" onCancel={onClose}>
      <div class="form-grid">
        <Field name="name" label="Name">
          <TextInput name="name" value={name} onValue={setName} required />
        </Field>
        <Field name="slug" label="Slug" hint="optional: lowercase letters, digits and dashes (made from the name otherwise)">
          <TextInput name="slug" value={slug} onValue={setSlug} />
        </Field>
      </div>
      <Field name="description" label="Description">
        <TextArea name="description" value={description} onValue={setDescription} rows={2} />
      </Field>
      <p class="form-section">Budget and limits (optional)</p>
      <LimitsEditor value={limits} onValue={setLimits} fields={TEAM_FIELDS} />
    </Form>
  );
}
