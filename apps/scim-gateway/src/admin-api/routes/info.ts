import fs from 'node:fs';
import { route, type AdminRoute } from '../define.js';
import { object, string } from '../schema.js';
import type { RouteDeps } from './common.js';

// The gateway's version, read once from its package.json (same relative place from src/ and dist/).
export const gatewayVersion = (() => {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
})();

export function infoRoutes({ config }: RouteDeps): AdminRoute[] {
  return [
    route({
      method: 'GET',
      path: '/api/admin/info',
      tag: 'Info',
      summary: 'What an identity provider needs to connect (for the "Connect your identity provider" panel)',
      responses: {
        200: {
          description: 'Endpoints',
          schema: object({
            publicUrl: string(),
            scimBaseUrl: string({ description: 'SCIM base URL (RFC 7644 §3): PUBLIC_URL/scim_v2' }),
            tokenEndpoint: string({ description: 'OAuth 2.0 token endpoint for client credentials' }),
            version: string(),
          }),
        },
      },
      handle: () => ({
        body: { publicUrl: config.publicUrl, scimBaseUrl: `${config.publicUrl}/scim_v2`, tokenEndpoint: `${config.publicUrl}/oauth/token`, version: gatewayVersion },
      }),
    }),
  ];
}
