// The state of an OpenID Connect sign-in between the redirect to the provider and its callback, in
// the database (oidc_logins) so that any replica can finish what another started. The state is
// stored hashed (it travels in URLs); the PKCE verifier and nonce never leave the server until the
// token exchange. A row is deleted by the callback that uses it (single use) or once expired.
import type { Kysely, Selectable } from 'kysely';
import type { Database, OidcLoginsTable } from '../db/types.ts';
import { hashSecret } from '../keys/key-format.ts';
import { iso } from '../clock.ts';

export type OidcLoginRow = Selectable<OidcLoginsTable>;

/** How long a started sign-in may take at the provider. */
export const OIDC_LOGIN_TTL_MS = 10 * 60_000;

export async function saveOidcLogin(db: Kysely<Database>, input: { state: string; codeVerifier: string; nonce: string; invitationId: number | null; returnTo: string | null }, now: number): Promise<void> {
  // Expired rows of sign-ins never finished go with the next start (the table stays tiny).
  await db.deleteFrom('oidc_logins').where('expires_at', '<=', iso(now)).execute();
  await db
    .insertInto('oidc_logins')
    .values({ state_hash: hashSecret(input.state), code_verifier: input.codeVerifier, nonce: input.nonce, invitation_id: input.invitationId, return_to: input.returnTo, created_at: iso(now), expires_at: iso(now + OIDC_LOGIN_TTL_MS) })
    .execute();
}

/**
 * Takes (deletes and returns) the sign-in a callback's state names. The delete is the single-use
 * check: of two callbacks with one state, only one gets the row. Undefined when unknown, already
 * used, or expired.
 */
export async function takeOidcLogin(db: Kysely<Database>, state: string, now: number): Promise<OidcLoginRow | undefined> {
  const row = await db.deleteFrom('oidc_logins').where('state_hash', '=', hashSecret(state)).returningAll().executeTakeFirst();
  if (!row || Date.parse(row.expires_at) <= now) return undefined;
  return row;
}
