// Rotating a key's secret: pick how long the old secret keeps working (the grace period), then the
// new secret is shown once. Closing the dialog forgets it: it is held in this component's state
// only, never in a list, the URL or storage.
import { useState } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { Modal } from '../components/dialog.tsx';
import { Field, Form, Select } from '../components/form.tsx';
import { SecretOnce } from '../components/secret.tsx';
import { Button } from '../components/ui.tsx';
import { dateTime } from '../components/format.ts';
import { toast } from '../components/toast.tsx';
import { GRACE_CHOICES, type AnyKey } from './keys-data.ts';

export function RotateDialog({ keyRow, open, onClose, onRotated }: { keyRow: AnyKey; open: boolean; onClose: () => void; onRotated: () => void }) {
  const [grace, setGrace] = useState('86400');
  const [result, setResult] = useState<{ secret: string; oldUntil: string; graceSeconds: number } | null>(null);
  const close = () => {
    setResult(null);
    onClose();
  };
  const submit = async () => {
    const seconds = Number(grace);
    const r = await api.postKeysByIdRotate({ path: { id: keyRow.id }, body: { grace_period_seconds: seconds }, options: { idempotencyKey: crypto.randomUUID() } });
    setResult({ secret: r.key ?? '', oldUntil: r.previous_secret.valid_until, graceSeconds: seconds });
    toast('Key rotated');
    onRotated();
  };
  return (
    <Modal title={`Rotate “${keyRow.name}”`} open={open} onClose={close}>
      {result ? (
        <div>
          <SecretOnce value={result.secret} label="New secret" />
          <p class="muted">{result.graceSeconds === 0 ? 'The old secret no longer works.' : `The old secret keeps working until ${dateTime(result.oldUntil)}.`}</p>
          <div class="form-actions"><Button variant="primary" onClick={close}>Done</Button></div>
        </div>
      ) : (
        <Form onSubmit={submit} submitLabel="Rotate" onCancel={close}>
          <p>A new secret replaces <span class="mono">{keyRow.key_prefix}</span>. Limits, budget and usage stay with the key.</p>
          <Field name="grace_period_seconds" label="Grace period for the old secret" hint="Time for your applications to switch to the new secret.">
            <Select name="grace_period_seconds" value={grace} onValue={setGrace} options={GRACE_CHOICES} />
          </Field>
        </Form>
      )}
    </Modal>
  );
}
