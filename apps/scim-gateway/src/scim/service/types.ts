import type { Knex } from 'knex';
import type { SettingsService } from '@roster/domain';

/** The SCIM client making a request, as authentication established it. */
export interface ScimCaller {
  clientId: string | null;
  authProviderId: string | null;
  /** `own`: the client sees and changes only the resources it provisioned. */
  dataScope: 'all' | 'own';
}

export interface ResourceServiceDeps {
  knex: Knex;
  /** `${PUBLIC_URL}/scim_v2`, the base of every meta.location. */
  baseUrl: string;
  /** Read on DELETE: "User accounts deletable by admins" and "lock users when deletion is refused". */
  settings: Pick<SettingsService, 'get'>;
}

export function visibilityOf(caller: ScimCaller): { ownerClientId?: string } {
  return caller.dataScope === 'own' && caller.clientId ? { ownerClientId: caller.clientId } : {};
}
