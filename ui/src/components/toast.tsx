// Short confirmations ("Key revoked") in a polite live region, gone after a few seconds.
import { signal } from '@preact/signals';

interface Toast { id: number; text: string; tone: 'good' | 'bad' }
const toasts = signal<Toast[]>([]);
let next = 1;

export function toast(text: string, tone: 'good' | 'bad' = 'good'): void {
  const id = next++;
  toasts.value = [...toasts.value, { id, text, tone }];
  setTimeout(() => (toasts.value = toasts.value.filter((t) => t.id !== id)), 4000);
}

export function ToastHost() {
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.value.map((t) => <div key={t.id} class={`toast toast-${t.tone}`}>{t.text}</div>)}
    </div>
  );
}
