import type { Knex } from '@roster/db';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import {
  createAdminOidcSignIn,
  createAdminService,
  createAdminSessionService,
  createAuditService,
  createClientActivityService,
  createDirectoryReadService,
  createSettingsService,
  createSignInThrottle,
  type AdminOidcSignIn,
  type AdminService,
  type AdminSessionService,
  type AuditService,
  type ClientActivityService,
  type DirectoryReadService,
  type SettingsService,
  type SignInThrottle,
} from '@roster/domain';
import {
  createAuthProviderService,
  createScimClientService,
  type AuthProviderService,
  type ScimClientService,
} from '@roster/domain';
import { createLinkRebuildWorker, type LinkRebuildWorker } from './link-rebuild-worker.js';
import { createApplicationService, createSignInResolver, type ApplicationService, type SignInResolver } from '@roster/domain';
import { AuthError, createApplicationAuthenticator, createIdTokenVerifier, type ApplicationAuthenticator, type IdTokenVerifier } from '@roster/auth';
import {
  createAdminOidcClient,
  createAuthenticator,
  createClientCredentialsService,
  createOidcDiscovery,
  createSamlMetadataFetcher,
  type Authenticator,
  type AuthenticatorOptions,
  type ClientCredentialsService,
} from '@roster/auth';
import { createSchemaExtensionService, type SchemaExtensionService, type SecretBox } from '@roster/domain';
import { bootstrapAdmins } from './admin-api/bootstrap.js';
import { createSchemaSetSource, type SchemaSetSource } from './scim/schemas/declared.js';
import { scimAudit } from './middleware/scim-audit.js';
import { createAuditUpkeep, type AuditUpkeep } from '@roster/domain';
import { createAuthFailureLog, type AuthFailureLog } from './middleware/auth-failure-log.js';
import { pruneChangeLog } from '@roster/domain';
import { createEventServices, type EventServices } from './events/services.js';

// Wiring happens once, here: every service is built from its repositories and handed to the routes.
export interface Services {
  knex: Knex;
  config: Config;
  logger: Logger;
  /** The current time; tests inject a steppable clock (session expiry, throttling). */
  now: () => Date;
  audit: AuditService;
  admins: AdminService;
  adminSessions: AdminSessionService;
  signInThrottle: SignInThrottle;
  /** Admin sign-in through an OIDC authentication provider (authorization code + PKCE). */
  adminOidc: AdminOidcSignIn;
  /** Cached for at most SETTINGS_CACHE_MS (2 s); SCIM DELETE calls settings.get() on every request. */
  settings: SettingsService;
  /** Read-only queries for the admin directory and activity screens. */
  directory: DirectoryReadService;
  /** Writes the provisioning log for /scim_v2 requests. */
  scimAudit: ReturnType<typeof scimAudit>;
  /** Successful SCIM reads, counted per client, endpoint kind and minute. */
  clientActivity: ClientActivityService;
  /** OIDC and SAML authentication providers (admin side). */
  authProviders: AuthProviderService;
  /** SCIM clients, their static tokens and OAuth client secrets (admin side). */
  scimClients: ScimClientService;
  /** Authenticates SCIM requests (static token, our access token, provider JWT); see middleware/scim-auth.ts. */
  authenticator: Authenticator;
  /** The OAuth client credentials grant behind POST /oauth/token. */
  oauthClients: ClientCredentialsService;
  /** Failed authentications, counted per (address, client, minute) into aggregate audit rows. */
  authFailures: AuthFailureLog;
  /** Audit aggregates and retention (the auditRetentionDays setting). */
  auditUpkeep: AuditUpkeep;
  /** Extension schemas declared by admins (cached for at most SCHEMA_EXTENSIONS_CACHE_MS, 2 s). */
  schemaExtensions: SchemaExtensionService;
  /** The schemas a SCIM request is served with: built-in plus declared, and the unknownExtensions setting. */
  scimSchemas: SchemaSetSource;
  /** Event streams: RFC 9967 SETs pushed (RFC 8935) or polled (RFC 8936); docs/events.md. */
  events: EventServices;
  /** Runs pending rebuilds of provider links (after an identity mapping changed or a client moved). */
  linkRebuilds: LinkRebuildWorker;
  /** Applications (admin side): registration, scopes, one-time credentials. */
  applications: ApplicationService;
  /** Authenticates applications' bearer tokens and runs their client credentials grant. */
  applicationAuth: ApplicationAuthenticator;
  /** Sign-in resolution (POST /api/v1/sign-in/resolve) and the ID token verification in front of it. */
  signIn: { resolver: SignInResolver; idTokens: IdTokenVerifier };
  /** Work to do once the database is migrated (bootstrap admin, timers). */
  startup(): Promise<void>;
  /** Stops timers and flushes buffered writes before the database closes. */
  shutdown(): Promise<void>;
}

/** Tests shorten the JWKS refetch cooldown to exercise key rotation without waiting 30 s. */
export type AuthTuning = Pick<AuthenticatorOptions, 'jwksCooldownMs' | 'jwksCacheMaxAgeMs'>;

export function createServices(deps: { knex: Knex; config: Config; logger: Logger; now?: () => Date; auth?: AuthTuning; secrets?: SecretBox }): Services {
  const { knex, config, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const admins = createAdminService(knex, { now });
  const audit = createAuditService(knex);
  const adminSessions = createAdminSessionService(knex, { now });
  const clientActivity = createClientActivityService(knex);
  const provisioningLog = scimAudit(audit, logger, clientActivity);
  const discovery = createOidcDiscovery({ allowInsecureIssuers: config.allowInsecureIssuers, clock: now, log: logger });
  const authenticator = createAuthenticator({
    knex,
    discovery,
    clock: now,
    allowInsecureIssuers: config.allowInsecureIssuers,
    tokenEndpointUrl: `${config.publicUrl}/oauth/token`,
    credentialCacheMs: config.credentialCacheMs,
    onBackgroundError: (error) => logger.warn({ err: error }, 'could not record last_used_at of a static token'),
    ...deps.auth,
  });
  const oauthClients = createClientCredentialsService({ knex, authenticator, accessTokenTtlSeconds: config.accessTokenTtlSeconds, clock: now });
  // Expired access tokens are useless a day after expiry; an hourly sweep keeps the table small. Every
  // process sweeps: the delete is idempotent, so no coordination is needed.
  let sweeper: NodeJS.Timeout | undefined;
  const auditUpkeep = createAuditUpkeep(knex);
  const authFailures = createAuthFailureLog({ upkeep: auditUpkeep, logger, now });
  const settings = createSettingsService(knex, { now: () => now().getTime() });
  const schemaExtensions = createSchemaExtensionService(knex, { now: () => now().getTime() });
  // The process resolves the key (server.ts: the embedded database's key file); otherwise ROSTER_ENCRYPTION_KEY or none.
  const events = createEventServices({ knex, config, logger, audit, now, secrets: deps.secrets });
  const linkRebuilds = createLinkRebuildWorker({ knex, logger });
  const signInResolver = createSignInResolver(knex, { now: () => now().getTime() });
  const applicationAuth = createApplicationAuthenticator({
    knex,
    clock: now,
    credentialCacheMs: config.credentialCacheMs,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    onBackgroundError: (error) => logger.warn({ err: error }, 'could not record last_used_at of an application credential'),
  });
  // An application with the events.poll scope may poll any event stream (RFC 8936) with its own access token or
  // static token, besides the stream's own poll token.
  events.addPollAuthorizer(async (_streamId, token) => !((await applicationAuth.authenticate(`Bearer ${token}`, 'events.poll')) instanceof AuthError));
  const sweep = (): void => {
    oauthClients.purgeExpiredAccessTokens().catch((error: unknown) => logger.warn({ err: error }, 'could not purge expired access tokens'));
    // Audit retention rides the same hourly sweep; every process runs it (auditUpkeep.prune is safe so).
    settings
      .get()
      .then((current) => auditUpkeep.prune(current.auditRetentionDays, now()))
      .then((deleted) => {
        if (deleted > 0) logger.info({ deleted }, 'pruned audit events past the retention');
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not prune audit events'));
    // The change log's retention (setting changeRetentionDays): as idempotent, every process prunes too.
    pruneChangeLog(events.changeLog, settings).catch((error: unknown) => logger.warn({ err: error }, 'could not prune the directory change log'));
  };
  return {
    knex,
    config,
    logger,
    now,
    audit,
    scimAudit: provisioningLog,
    clientActivity,
    admins,
    adminSessions,
    adminOidc: createAdminOidcSignIn(knex, {
      client: createAdminOidcClient({ allowInsecureIssuers: config.allowInsecureIssuers, clock: now }),
      admins,
      sessions: adminSessions,
      audit,
      redirectUri: `${config.publicUrl}/api/admin/oidc/callback`,
      now,
    }),
    signInThrottle: createSignInThrottle(knex, { now }),
    settings,
    directory: createDirectoryReadService(knex),
    authProviders: createAuthProviderService(knex, {
      discover: (issuer) => discovery.discover(issuer),
      fetchSamlMetadata: createSamlMetadataFetcher({ allowInsecure: config.allowInsecureIssuers, log: logger }),
      audit,
      onLinkRebuildScheduled: linkRebuilds.kick,
      onChanged: (id) => signInResolver.forget(id),
    }),
    scimClients: createScimClientService(knex, { audit, clock: now, onRevoked: authenticator.revocationListener, onLinkRebuildScheduled: linkRebuilds.kick }),
    linkRebuilds,
    applications: createApplicationService(knex, { audit, clock: now, onChanged: (id) => applicationAuth.forget(id) }),
    applicationAuth,
    signIn: {
      resolver: signInResolver,
      idTokens: createIdTokenVerifier({ allowInsecureIssuers: config.allowInsecureIssuers, clock: now, jwksCooldownMs: deps.auth?.jwksCooldownMs, jwksCacheMaxAgeMs: deps.auth?.jwksCacheMaxAgeMs }),
    },
    authenticator,
    oauthClients,
    authFailures,
    auditUpkeep,
    schemaExtensions,
    scimSchemas: createSchemaSetSource({
      current: () => schemaExtensions.current(),
      policy: async () => (await settings.get()).unknownExtensions,
      peek: () => {
        const extensions = schemaExtensions.peek();
        const cachedSettings = extensions && settings.peek();
        return cachedSettings ? { extensions: extensions!, policy: cachedSettings.unknownExtensions } : undefined;
      },
    }),
    events,
    startup: async () => {
      await bootstrapAdmins({ config, logger, admins });
      await events.reencryptSecrets();
      events.worker.start();
      sweeper = setInterval(sweep, 3_600_000);
      sweeper.unref();
      linkRebuilds.start();
    },
    shutdown: async () => {
      clearInterval(sweeper);
      await events.worker.stop();
      await events.changeLog.close();
      await linkRebuilds.stop();
      await applicationAuth.settled();
      await provisioningLog.drain();
      await authFailures.drain();
      await authenticator.settled();
    },
  };
}
