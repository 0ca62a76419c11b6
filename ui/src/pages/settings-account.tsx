// My account: the signed-in person's password (PUT /api/me/password: a wrong current password is
// shown under that field, a weak new one under its own) and the session they are using. Other
// sessions of theirs end when the password changes (the server does it, and says how many).
import { useState } from 'preact/hooks';
import { api } from '../api/generated.ts';
import { ApiFailure } from '../api/transport.ts';
import { Card, Details } from '../components/ui.tsx';
import { Field, Form, TextInput } from '../components/form.tsx';
import { toast } from '../components/toast.tsx';
import { dateTime, relative } from '../components/format.ts';
import type { Me } from '../session.ts';

export function MyAccount({ me }: { me: Me }) {
  const user = me.user;
  if (!user) return null;
  return (
    <>
      <Card title="Profile">
        <Details items={[
          ['Name', user.name ?? '—'],
          ['Email', user.email ?? '—'],
          ['Role', me.role],
          ['Last sign-in', dateTime(user.last_login_at)],
          ['Member since', dateTime(user.created_at)],
        ]} />
      </Card>
      {me.session && (
        <Card title="This session">
          <Details items={[
            ['Signed in with', me.session.method],
            ['Started', dateTime(me.session.created_at)],
            ['Ends when idle', relative(me.session.idle_expires_at)],
            ['Ends at the latest', dateTime(me.session.expires_at)],
          ]} />
        </Card>
      )}
      <Card title="Change password">
        {user.has_password ? <PasswordForm /> : <p class="muted">You sign in with single sign-on; this account has no password of its own.</p>}
      </Card>
    </>
  );
}

function PasswordForm() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const submit = async () => {
    // Checked here because the API never sees the repetition; everything else is the API's word.
    if (next !== repeat) throw new ApiFailure(400, 'invalid_request', 'does not match the new password', 'repeat_password');
    const res = await api.putMePassword({ body: { current_password: current, new_password: next } });
    setCurrent('');
    setNext('');
    setRepeat('');
    const ended = res?.other_sessions_ended ?? 0;
    toast(ended > 0 ? `Password changed; ${ended} other session${ended === 1 ? '' : 's'} signed out` : 'Password changed');
  };
  return (
    <Form onSubmit={submit} submitLabel="Change password">
      <Field name="current_password" label="Current password">
        <TextInput name="current_password" type="password" value={current} onValue={setCurrent} autoComplete="current-password" />
      </Field>
      <div class="form-grid">
        <Field name="new_password" label="New password" hint="A long passphrase is best.">
          <TextInput name="new_password" type="password" value={next} onValue={setNext} autoComplete="new-password" />
        </Field>
        <Field name="repeat_password" label="Repeat the new password">
          <TextInput name="repeat_password" type="password" value={repeat} onValue={setRepeat} autoComplete="new-password" />
        </Field>
      </div>
    </Form>
  );
}
