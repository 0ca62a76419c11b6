// Small pieces the team and people pages share.
import { ApiFailure } from '../api/transport.ts';
import { toast } from '../components/toast.tsx';

/**
 * Runs an action started from a button (not a form): its failure is shown as the API's own message
 * in a toast, instead of becoming an unhandled rejection nobody sees.
 */
export async function attempt(action: () => Promise<unknown>, done?: string): Promise<boolean> {
  try {
    await action();
    if (done) toast(done);
    return true;
  } catch (err) {
    toast(err instanceof ApiFailure || err instanceof Error ? err.message : String(err), 'bad');
    return false;
  }
}

/** "a person's name (email)" as a table shows it */
export function personLabel(p: { name: string | null; email: string | null; external_id?: string | null }): string {
  if (p.name && p.email) return `${p.name} (${p.email})`;
  return p.name ?? p.email ?? p.external_id ?? '—';
}
