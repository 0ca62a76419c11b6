// Who an OpenID Connect sign-in is: the identity read from the provider's validated claims, and the
// Tollgate user it matches. Matching is by external_id = the configured claim (default `sub`),
// then by email — but only an email the provider says it verified, or anyone able to set an
// unverified email at the provider could sign in as the user who owns that address here.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import { ApiError, type ErrorCode } from '../http/errors.ts';
import type { UserRow } from '../users/users.repository.ts';

export interface OidcIdentity {
  /** the configured claim's value: users.external_id */
  externalId: string;
  /** the email, when the provider verified it (email_verified true); null otherwise */
  email: string | null;
  name: string | null;
  subject: string;
}

/** The longest external_id or email Tollgate stores (as /api/users accepts). */
const MAX_ID = 320;

/** The identity in `claims` (ID token, completed by userinfo), or why there is none. */
export function identityFromClaims(claims: Record<string, unknown>, externalIdClaim: string): OidcIdentity | string {
  const raw = claims[externalIdClaim];
  const externalId = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : '';
  if (!externalId) return `the provider's answer has no "${externalIdClaim}" claim (TOLLGATE_OIDC_EXTERNAL_ID_CLAIM)`;
  if (externalId.length > MAX_ID) return `the "${externalIdClaim}" claim is longer than ${MAX_ID} characters`;
  // Some providers send the boolean as a string.
  const verified = claims.email_verified === true || claims.email_verified === 'true';
  // The email as the identifier itself: only once proven, for the reason emails are matched only so.
  if (externalIdClaim === 'email' && !verified) return 'the provider has not verified the email, which is the identifier here (TOLLGATE_OIDC_EXTERNAL_ID_CLAIM=email)';
  const email = verified && typeof claims.email === 'string' && claims.email.includes('@') && claims.email.length <= MAX_ID ? claims.email.trim().toLowerCase() : null;
  const name = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 200) : null;
  return { externalId, email, name, subject: String(claims.sub ?? '') };
}

/** The user of `orgId` this identity signs in as: by external_id first, then by verified email. */
export async function findUserByIdentity(db: Kysely<Database>, orgId: number, identity: OidcIdentity): Promise<UserRow | undefined> {
  const byId = await db.selectFrom('users').selectAll().where('org_id', '=', orgId).where('external_id', '=', identity.externalId).executeTakeFirst();
  if (byId || identity.email === null) return byId;
  return db.selectFrom('users').selectAll().where('org_id', '=', orgId).where(sql<string>`lower(email)`, '=', identity.email).executeTakeFirst();
}

/**
 * A sign-in refused for a reason the audit trail records (`auth.login_failed`, reason): the
 * transaction that threw it rolled back, and the route records the failure on its own.
 */
export class SignInRefused extends ApiError {
  readonly reason: string;
  readonly userId: number | null;
  constructor(reason: string, code: ErrorCode, message: string, userId: number | null = null) {
    super(code, message);
    this.reason = reason;
    this.userId = userId;
  }
}
