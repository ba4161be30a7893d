import type { AuditService } from '../audit.js';
import { RETIRED_KEY_OVERLAP_MS, type EventSigner } from './signing-keys.js';

// The event signing keys as the admin sees them (GET /api/admin/event-signing-keys) and their rotation as an
// audited admin command. Only public facts: the private key never leaves the signer.

export interface SigningKeyView {
  kid: string;
  alg: 'ES256';
  createdAt: Date;
  /** current: not retired (the newest of them signs); retired: replaced, published until expiresAt. */
  state: 'current' | 'retired';
  retiredAt: Date | null;
  /** When a retired key leaves /.well-known/jwks.json (retiredAt + RETIRED_KEY_OVERLAP_MS); null while current. */
  expiresAt: Date | null;
  /** Whether /.well-known/jwks.json lists the key now. */
  published: boolean;
}

export function createSigningKeyAdmin(deps: { signer: EventSigner; audit?: AuditService; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const view = (key: Awaited<ReturnType<EventSigner['list']>>[number]): SigningKeyView => {
    const expiresAt = key.retiredAt ? new Date(key.retiredAt.getTime() + RETIRED_KEY_OVERLAP_MS) : null;
    return {
      kid: key.kid,
      alg: 'ES256',
      createdAt: key.createdAt,
      state: key.retiredAt ? 'retired' : 'current',
      retiredAt: key.retiredAt,
      expiresAt,
      published: expiresAt === null || expiresAt > now(),
    };
  };

  return {
    /** Every key, newest first. */
    async list(): Promise<SigningKeyView[]> {
      return (await deps.signer.list()).map(view);
    },

    /** Adds a new key that signs from now on; the others are retired and stay published for the overlap. */
    async rotate(adminId?: string): Promise<SigningKeyView> {
      const kid = await deps.signer.rotate();
      await deps.audit?.record({ actorType: adminId ? 'admin' : 'system', adminId: adminId ?? null, operation: 'admin.event_signing_key.rotate', resourceType: 'EventSigningKey', resourceId: kid, detail: null });
      const created = (await deps.signer.list()).find((key) => key.kid === kid);
      return view(created!);
    },
  };
}

export type SigningKeyAdmin = ReturnType<typeof createSigningKeyAdmin>;
