// What can be done to a key, each shown only to those the API would allow: edit, rotate (grace
// period; the new secret once), disable / enable, revoke (after confirming). Viewers see none.
import { useState } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { confirmAction } from '../components/dialog.tsx';
import { Button } from '../components/ui.tsx';
import { toast } from '../components/toast.tsx';
import { canManage, canRotate, type ListedKey } from './keys-data.ts';
import { RotateDialog } from './key-rotate-dialog.tsx';
import { KeyEditDialog } from './key-edit-dialog.tsx';

type ActionKey = Pick<ListedKey, 'id' | 'name' | 'status' | 'team_id' | 'user_id' | 'service_account_id' | 'key_prefix' | 'expires_at' | 'models' | 'access_groups' | 'ip_allowlist' | 'tags'>;

export function KeyActions({ keyRow, onChanged }: { keyRow: ActionKey; onChanged: () => void }) {
  const [dialog, setDialog] = useState<'rotate' | 'edit' | null>(null);
  const [busy, setBusy] = useState(false);
  if (keyRow.status === 'revoked') return null;
  const manage = canManage(keyRow);
  const rotate = canRotate(keyRow);
  if (!manage && !rotate) return null;

  const act = async (work: () => Promise<unknown>, done: string) => {
    setBusy(true);
    try {
      await work();
      toast(done);
      onChanged();
    } catch (err) {
      toast(err instanceof Error ? err.message : String(err), 'bad');
    } finally {
      setBusy(false);
    }
  };
  const setStatus = (status: 'active' | 'disabled') => act(() => api.patchKeysById({ path: { id: keyRow.id }, body: { status } }), status === 'active' ? 'Key enabled' : 'Key disabled');
  const disable = async () => {
    const ok = await confirmAction({ title: `Disable “${keyRow.name}”?`, message: 'Requests with this key are refused until it is enabled again. Its limits, budget and history stay.', confirmLabel: 'Disable key' });
    if (ok) await setStatus('disabled');
  };
  const revoke = async () => {
    const ok = await confirmAction({ title: `Revoke “${keyRow.name}”?`, message: 'Every secret of this key stops working at once, for good. This cannot be undone.', confirmLabel: 'Revoke key' });
    if (ok) await act(() => api.deleteKeysById({ path: { id: keyRow.id } }), 'Key revoked');
  };
  return (
    <div class="actions">
      {manage && <Button onClick={() => setDialog('edit')} disabled={busy}>Edit</Button>}
      {rotate && <Button onClick={() => setDialog('rotate')} disabled={busy}>Rotate</Button>}
      {manage && (keyRow.status === 'active'
        ? <Button onClick={disable} busy={busy}>Disable</Button>
        : <Button onClick={() => setStatus('active')} busy={busy}>Enable</Button>)}
      {rotate && <Button variant="danger" onClick={revoke} disabled={busy}>Revoke</Button>}
      <RotateDialog keyRow={keyRow} open={dialog === 'rotate'} onClose={() => setDialog(null)} onRotated={onChanged} />
      {manage && <KeyEditDialog keyRow={keyRow} open={dialog === 'edit'} onClose={() => setDialog(null)} onSaved={onChanged} />}
    </div>
  );
}
