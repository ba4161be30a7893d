import { Model, type RelationMappings } from 'objection';
import { AdminModel, adminsTable } from './admins.js';
import { ScimClientModel, scimClientsTable } from './scim-clients.js';
import { col, defineTable, TableModel } from './table.js';

// The audit log. client_id and admin_id carry no foreign key: an event outlives the client or admin it names.
export const auditEventsTable = defineTable('audit_events', {
  id: col('id', 'bigint'),
  at: col('at', 'timestamptz'),
  actorType: col('actor_type', 'text'),
  clientId: col('client_id', 'uuid', { nullable: true }),
  adminId: col('admin_id', 'uuid', { nullable: true }),
  operation: col('operation', 'text'),
  resourceType: col('resource_type', 'text', { nullable: true }),
  resourceId: col('resource_id', 'text', { nullable: true }),
  status: col('status', 'integer', { nullable: true }),
  durationMs: col('duration_ms', 'integer', { nullable: true }),
  requestId: col('request_id', 'text', { nullable: true }),
  detail: col('detail', 'jsonb', { nullable: true }),
  aggregateKey: col('aggregate_key', 'text', { nullable: true }),
});

export class AuditEventModel extends TableModel {
  static override tableName = auditEventsTable.table;
  static override jsonSchema = auditEventsTable.jsonSchema;
  static override jsonAttributes = auditEventsTable.jsonAttributes;
  static readonly columns = auditEventsTable.columns;
  static override relationMappings = (): RelationMappings => ({
    client: {
      relation: Model.BelongsToOneRelation,
      modelClass: ScimClientModel,
      join: { from: auditEventsTable.ref('clientId'), to: scimClientsTable.ref('id') },
    },
    admin: {
      relation: Model.BelongsToOneRelation,
      modelClass: AdminModel,
      join: { from: auditEventsTable.ref('adminId'), to: adminsTable.ref('id') },
    },
  });
}
