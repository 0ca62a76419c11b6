// A key's rotation schedule, set or stopped from its page: rotate every N days with a grace period
// for the old secret (PUT /api/keys/{id}/rotation-schedule), or by hand only (DELETE). Scheduled
// rotations issue the new secret to the key's webhook (docs/automation.md), never to this page.
import { useState } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { confirmAction } from '../components/dialog.tsx';
import { Field, Form, numberOrUndefined, TextInput } from '../components/form.tsx';
import { toast } from '../components/toast.tsx';
import { Button } from '../components/ui.tsx';

export function ScheduleEditor({ keyId, everyDays, graceSeconds, onChanged }: { keyId: number; everyDays: number | null; graceSeconds: number | null; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const [days, setDays] = useState(everyDays === null ? '90' : String(everyDays));
  const [grace, setGrace] = useState(String(Math.round((graceSeconds ?? 86_400) / 3600)));
  if (!editing) {
    const stop = async () => {
      if (!(await confirmAction({ title: 'Stop scheduled rotation?', message: 'The key keeps its current secret until someone rotates it by hand.', confirmLabel: 'Stop schedule' }))) return;
      try {
        await api.deleteKeysByIdRotationSchedule({ path: { id: keyId } });
        toast('Scheduled rotation stopped');
        onChanged();
      } catch (err) {
        toast(err instanceof Error ? err.message : String(err), 'bad');
      }
    };
    return (
      <div class="actions">
        <Button class="btn-small" onClick={() => setEditing(true)}>{everyDays === null ? 'Schedule rotation' : 'Change schedule'}</Button>
        {everyDays !== null && <Button class="btn-small" variant="ghost" onClick={stop}>Stop schedule</Button>}
      </div>
    );
  }
  const submit = async () => {
    const hours = numberOrUndefined(grace);
    await api.putKeysByIdRotationSchedule({
      path: { id: keyId },
      body: { rotate_every_days: numberOrUndefined(days) ?? Number.NaN, ...(hours === undefined ? {} : { grace_period_seconds: Math.round(hours * 3600) }) },
    });
    toast('Rotation scheduled');
    setEditing(false);
    onChanged();
  };
  return (
    <Form onSubmit={submit} submitLabel="Save schedule" onCancel={() => setEditing(false)}>
      <div class="form-grid">
        <Field name="rotate_every_days" label="Rotate every (days)"><TextInput name="rotate_every_days" type="number" min={1} value={days} onValue={setDays} /></Field>
        <Field name="grace_period_seconds" label="Old secret keeps working (hours)"><TextInput name="grace_period_seconds" type="number" min={0} value={grace} onValue={setGrace} /></Field>
      </div>
    </Form>
  );
}
