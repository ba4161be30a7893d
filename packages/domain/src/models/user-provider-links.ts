import { Model, type RelationMappings } from 'objection';
import { AuthProviderModel, authProvidersTable } from './auth-providers.js';
import { col, defineTable, TableModel } from './table.js';
import { UserModel, usersTable } from './users.js';

// A user's externalId at one authentication provider: unique per (user, provider), not per (provider,
// external_id) (RFC 7643 §3.1 does not make externalId unique).
export const userProviderLinksTable = defineTable('user_provider_links', {
  id: col('id', 'uuid'),
  userId: col('user_id', 'uuid'),
  providerId: col('provider_id', 'uuid'),
  externalId: col('external_id', 'text'),
  createdAt: col('created_at', 'timestamptz'),
  updatedAt: col('updated_at', 'timestamptz'),
});

export class UserProviderLinkModel extends TableModel {
  static override tableName = userProviderLinksTable.table;
  static override jsonSchema = userProviderLinksTable.jsonSchema;
  static override jsonAttributes = userProviderLinksTable.jsonAttributes;
  static readonly columns = userProviderLinksTable.columns;
  static override relationMappings = (): RelationMappings => ({
    user: {
      relation: Model.BelongsToOneRelation,
      modelClass: UserModel,
      join: { from: userProviderLinksTable.ref('userId'), to: usersTable.ref('id') },
    },
    provider: {
      relation: Model.BelongsToOneRelation,
      modelClass: AuthProviderModel,
      join: { from: userProviderLinksTable.ref('providerId'), to: authProvidersTable.ref('id') },
    },
  });
}
