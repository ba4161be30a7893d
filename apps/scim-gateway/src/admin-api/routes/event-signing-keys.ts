import { route, type AdminRoute } from '../define.js';
import { array, boolean, dateTime, nullable, object, oneOf, string } from '../schema.js';
import type { RouteDeps } from './common.js';

// The ES256 keys SETs are signed with (docs/events.md, "Signing keys"): listed with their public facts only, and
// rotated by the admin. A rotation adds a key that signs from then on; the replaced key stays in
// /.well-known/jwks.json for the overlap, so receivers that cached it keep verifying SETs signed just before.

const keySchema = object({
  kid: string({ description: 'The JWK thumbprint (RFC 7638), the `kid` in the SET header and the JWKS' }),
  alg: oneOf(['ES256']),
  createdAt: dateTime(),
  state: oneOf(['current', 'retired'], { description: 'current: signs new SETs (the newest of them); retired: replaced, still verifiable until expiresAt' }),
  retiredAt: nullable(dateTime()),
  expiresAt: nullable(dateTime({ description: 'When the key leaves /.well-known/jwks.json; null while current' })),
  published: boolean({ description: 'Listed in /.well-known/jwks.json now' }),
});

export function eventSigningKeyRoutes({ services }: RouteDeps): AdminRoute[] {
  const { signingKeys } = services.events;
  const tag = 'Event signing keys';
  return [
    route({
      method: 'GET',
      path: '/api/admin/event-signing-keys',
      tag,
      summary: 'The keys SETs are signed with, newest first (public facts only)',
      responses: { 200: { description: 'Every key', schema: object({ items: array(keySchema) }) } },
      handle: async () => ({ body: { items: await signingKeys.list() } }),
    }),
    route({
      method: 'POST',
      path: '/api/admin/event-signing-keys/rotate',
      tag,
      summary: 'Add a new signing key that signs from now on; the others are retired and stay published for the overlap',
      responses: { 201: { description: 'The new key', schema: keySchema } },
      handle: async ({ admin }) => ({ status: 201, body: await signingKeys.rotate(admin.id) }),
    }),
  ];
}
