// Accepting an invitation (the link an owner or admin sent): choose a name and a password, or
// use single sign-on when the deployment has it. Either way the person is signed in at the end.
import { useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { api } from '../api/generated.ts';
import { Field, Form, TextInput } from '../components/form.tsx';
import { useApi } from '../components/use-api.ts';
import { loadMe } from '../session.ts';

export default function AcceptInvitation() {
  const { params } = useRoute();
  const { route } = useLocation();
  const token = params.token ?? '';
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const methods = useApi(() => api.getAuthMethods(), []);
  const submit = async () => {
    await api.postInvitationsByTokenAccept({ path: { token }, body: { password, ...(name ? { name } : {}) } });
    await loadMe();
    route('/ui', true);
  };
  return (
    <main class="auth-page" id="main">
      <div class="auth-card">
        <div class="brand auth-brand"><span class="brand-mark" aria-hidden="true">◆</span> Tollgate</div>
        <h1>Join your team</h1>
        <p class="muted">You were invited to Tollgate. Choose a password to finish setting up your account.</p>
        <Form onSubmit={submit} submitLabel="Accept and sign in">
          <Field name="name" label="Your name">
            <TextInput name="name" autoComplete="name" value={name} onValue={setName} />
          </Field>
          <Field name="password" label="Password" hint="At least 12 characters.">
            <TextInput name="password" type="password" autoComplete="new-password" value={password} onValue={setPassword} required />
          </Field>
        </Form>
        {methods.data?.sso && methods.data.sso_login_url && (
          <>
            <div class="divider"><span>or</span></div>
            <a class="btn btn-secondary btn-block" href={`${methods.data.sso_login_url}?invitation=${encodeURIComponent(token)}&return_to=%2Fui`}>Accept with single sign-on</a>
          </>
        )}
      </div>
    </main>
  );
}
