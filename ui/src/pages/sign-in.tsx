// Sign-in: email and password, or single sign-on when the deployment has it (GET /api/auth/methods).
// After signing in, back to where the person was going (?next=/ui/…, a path on this site only).
import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { api } from '../api/generated.ts';
import { ApiFailure } from '../api/transport.ts';
import { Field, Form, TextInput } from '../components/form.tsx';
import { useApi } from '../components/use-api.ts';
import { loadMe } from '../session.ts';

/** Only a path under /ui: never another site (no open redirect). */
export function safeNext(next: string | undefined): string {
  return next && /^\/ui(\/|$|\?)/.test(next) && !next.startsWith('//') ? next : '/ui';
}

export default function SignIn() {
  const { query, route } = useLocation();
  const next = safeNext(query.next);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [org, setOrg] = useState('');
  const [orgs, setOrgs] = useState<string[] | null>(null);
  const methods = useApi(() => api.getAuthMethods(), []);
  const submit = async () => {
    try {
      await api.postAuthLogin({ body: { email, password, ...(org ? { org } : {}) } });
    } catch (err) {
      // One email in several organizations: the API names them; the person picks one.
      if (err instanceof ApiFailure && err.param === 'org' && orgs === null) setOrgs([]);
      throw err;
    }
    await loadMe();
    route(next, true);
  };
  return (
    <main class="auth-page" id="main">
      <div class="auth-card">
        <div class="brand auth-brand"><span class="brand-mark" aria-hidden="true">◆</span> Tollgate</div>
        <h1>Sign in</h1>
        <Form onSubmit={submit} submitLabel="Sign in">
          <Field name="email" label="Email">
            <TextInput name="email" type="email" autoComplete="username" value={email} onValue={setEmail} required />
          </Field>
          <Field name="password" label="Password">
            <TextInput name="password" type="password" autoComplete="current-password" value={password} onValue={setPassword} required />
          </Field>
          {orgs !== null && (
            <Field name="org" label="Organization" hint="This email belongs to several organizations: type the one to sign in to.">
              <TextInput name="org" value={org} onValue={setOrg} />
            </Field>
          )}
        </Form>
        {methods.data?.sso && methods.data.sso_login_url && (
          <>
            <div class="divider"><span>or</span></div>
            <a class="btn btn-secondary btn-block" href={`${methods.data.sso_login_url}?return_to=${encodeURIComponent(next)}`}>Sign in with single sign-on</a>
          </>
        )}
      </div>
    </main>
  );
}
