// Placeholder: filled in by the change that needs it, before it lands.
import type { Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(_db: Kysely<any>, _dialect: DialectName): Promise<void> {}
