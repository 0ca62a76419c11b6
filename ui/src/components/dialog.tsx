// Modal dialogs on the native <dialog> element (focus moves in and is trapped, Escape closes),
// and confirmAction(): every destructive action asks first.
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { signal } from '@preact/signals';
import { Button } from './ui.tsx';

export function Modal({ title, open, onClose, children, wide }: { title: string; open: boolean; onClose: () => void; children: ComponentChildren; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  // Each dialog is named by its own heading: a shared id would name every dialog on the page
  // (closed ones included) after whichever title comes first.
  const titleId = useId();
  // A close() we make ourselves still fires its `close` event a task later, by when the same
  // dialog may hold the next request (a confirm that follows a confirm): that event is not the
  // person closing it, and must not answer the next request.
  const closing = useRef(0);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) {
      closing.current += 1;
      d.close();
    }
  }, [open]);
  const closed = () => {
    if (closing.current > 0) closing.current -= 1;
    else onClose();
  };
  return (
    <dialog ref={ref} class={`modal ${wide ? 'modal-wide' : ''}`} aria-labelledby={open ? titleId : undefined} onClose={closed} onCancel={(e) => { e.preventDefault(); onClose(); }}>
      {open && (
        <div class="modal-body">
          <div class="modal-head">
            <h2 id={titleId}>{title}</h2>
            <button type="button" class="icon-btn" aria-label="Close" onClick={onClose}>×</button>
          </div>
          {children}
        </div>
      )}
    </dialog>
  );
}

interface ConfirmRequest { title: string; message: ComponentChildren; confirmLabel: string; danger: boolean; resolve: (ok: boolean) => void }
const pending = signal<ConfirmRequest | null>(null);

/** Resolves true when the person confirms. */
export function confirmAction(opts: { title: string; message: ComponentChildren; confirmLabel?: string; danger?: boolean }): Promise<boolean> {
  return new Promise((resolve) => {
    pending.value = { title: opts.title, message: opts.message, confirmLabel: opts.confirmLabel ?? 'Confirm', danger: opts.danger ?? true, resolve };
  });
}

/** Mounted once by the layout. */
export function ConfirmHost() {
  const req = pending.value;
  const done = (ok: boolean) => {
    req?.resolve(ok);
    pending.value = null;
  };
  return (
    <Modal title={req?.title ?? ''} open={req !== null} onClose={() => done(false)}>
      <div class="confirm-message">{req?.message}</div>
      <div class="form-actions">
        <Button onClick={() => done(false)}>Cancel</Button>
        <Button variant={req?.danger ? 'danger' : 'primary'} onClick={() => done(true)}>{req?.confirmLabel}</Button>
      </div>
    </Modal>
  );
}
