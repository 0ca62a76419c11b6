// Master admin key rotation from the CLI: a new key replaces the stored hash; running replicas
// re-read it every 5 s (MasterKey in admin-auth.ts), so the old key stops working within seconds,
// without a restart. Ignored when TOLLGATE_ADMIN_KEY is set, which always wins.
import type { Kysely } from 'kysely';
import type { Database } from '../db/types.ts';
import { ADMIN_KEY_PREFIX, generateKey, hashSecret } from '../keys/key-format.ts';
import { MASTER_KEY_SETTING } from './admin-auth.ts';

export async function rotateMasterKey(db: Kysely<Database>): Promise<string> {
  const secret = generateKey(ADMIN_KEY_PREFIX);
  const value = hashSecret(secret);
  await db.insertInto('settings').values({ key: MASTER_KEY_SETTING, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
  return secret;
}
