// Frozen once landed. Issue 13, the price book: an organization's own prices (override a shipped
// price, or price a model the book does not know), set through /api/prices. Integer micro-USD per
// 1M tokens, like every price in Tollgate.
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../connection.ts';

export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  const id = dialect === 'postgres' ? sql`serial primary key` : sql`integer primary key autoincrement`;
  await db.schema
    .createTable('model_prices')
    .addColumn('id', id)
    .addColumn('org_id', 'integer', (c) => c.notNull().references('organizations.id'))
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('input_micro', 'bigint', (c) => c.notNull())
    .addColumn('output_micro', 'bigint', (c) => c.notNull())
    .addColumn('cached_input_micro', 'bigint')
    .addColumn('max_output_tokens', 'integer')
    .addColumn('note', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('model_prices_org_model_uq').on('model_prices').columns(['org_id', 'model']).unique().execute();
}
