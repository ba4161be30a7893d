import { route, type AdminRoute } from '../define.js';
import { boolean, integer, object, oneOf, optional } from '../schema.js';
import type { RouteDeps } from './common.js';

const usersDeletableByAdmins = 'When on, SCIM DELETE of a user removes it; when off, the deletion is refused';
const lockOnRefusedDelete = 'When on, a refused SCIM DELETE locks (deactivates) the user instead';
const auditRetentionDays = 'Audit events older than this many days are deleted (hourly, by every process). Default 90';
const unknownExtensions = 'A schema URN in a SCIM body that no declared extension owns: "reject" answers 400 invalidValue naming it; "keep" stores its values verbatim (listed as unrecognized)';
const changeRetentionDays = 'Days the directory change log keeps a change; older changes are pruned (default 90)';

export const settingsSchema = object({
  usersDeletableByAdmins: boolean({ description: usersDeletableByAdmins }),
  lockOnRefusedDelete: boolean({ description: lockOnRefusedDelete }),
  auditRetentionDays: integer({ min: 1, max: 3650, description: auditRetentionDays }),
  unknownExtensions: oneOf(['reject', 'keep'], { description: unknownExtensions }),
  changeRetentionDays: integer({ description: changeRetentionDays, min: 1, max: 3650 }),
});

export function settingsRoutes({ services }: RouteDeps): AdminRoute[] {
  return [
    route({
      method: 'GET',
      path: '/api/admin/settings',
      tag: 'Settings',
      summary: 'Instance settings',
      responses: { 200: { description: 'All settings', schema: settingsSchema } },
      handle: async () => ({ body: await services.settings.get() }),
    }),
    route({
      method: 'PATCH',
      path: '/api/admin/settings',
      tag: 'Settings',
      summary: 'Change settings',
      description: 'Takes effect in this process at once and in every other process within 2 seconds.',
      body: object(
        {
          usersDeletableByAdmins: optional(boolean({ description: usersDeletableByAdmins })),
          lockOnRefusedDelete: optional(boolean({ description: lockOnRefusedDelete })),
          auditRetentionDays: optional(integer({ min: 1, max: 3650, description: auditRetentionDays })),
          unknownExtensions: optional(oneOf(['reject', 'keep'], { description: unknownExtensions })),
          changeRetentionDays: optional(integer({ description: changeRetentionDays, min: 1, max: 3650 })),
        },
        { minProperties: 1 },
      ),
      responses: { 200: { description: 'All settings after the change', schema: settingsSchema } },
      handle: async ({ body, admin, requestId }) => ({ body: await services.settings.update(body, admin.id, requestId) }),
    }),
  ];
}
