import type { Knex } from '@roster/db';
import {
  createChangeLog,
  createDeliveryWorker,
  createEventSigner,
  createEventStreamService,
  createPollService,
  createSecretBox,
  createSigningKeyAdmin,
  reencryptEventSecrets,
  type AuditService,
  type SecretBox,
  type SigningKeyAdmin,
  type ChangeLog,
  type DeliveryWorker,
  type EventSigner,
  type EventStreamService,
  type PollService,
} from '@roster/domain';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createResourceLoader } from './resource-loader.js';

/** Decides whether a bearer token may poll a stream (true), or says nothing about it (false). */
export type PollAuthorizer = (streamId: string, token: string) => Promise<boolean>;

export interface DeliveryAttempt {
  streamId: string;
  streamName: string;
  ok: boolean;
  lagSeconds: number;
}

export interface EventServices {
  changeLog: ChangeLog;
  streams: EventStreamService;
  signer: EventSigner;
  /** The signing keys as the admin lists and rotates them. */
  signingKeys: SigningKeyAdmin;
  /** Encrypts the event secrets at rest (ROSTER_ENCRYPTION_KEY). */
  secrets: SecretBox;
  /** Start-up: re-encrypts event secrets not under the current key, and marks streams whose header no key reads. */
  reencryptSecrets(): Promise<void>;
  /** Push delivery of this process (started by Services.startup, stopped by shutdown). */
  worker: DeliveryWorker;
  poll: PollService;
  /** A stream's own poll token, or any registered PollAuthorizer. */
  authorizePoll(streamId: string, token: string): Promise<boolean>;
  /**
   * HOOK for applications: an application holding the `events.poll` scope (applications are built on another
   * branch) registers a PollAuthorizer here that accepts its access token for the streams it may read.
   */
  addPollAuthorizer(authorizer: PollAuthorizer): void;
  /** Called after every push attempt (metrics). */
  onAttempt(listener: (attempt: DeliveryAttempt) => void): void;
}

export function createEventServices(deps: { knex: Knex; config: Config; logger: Logger; audit: AuditService; now: () => Date; secrets?: SecretBox }): EventServices {
  const { knex, config, logger } = deps;
  const secrets = deps.secrets ?? createSecretBox(config.encryptionKeys);
  const changeLog = createChangeLog(knex, { onListenError: (error) => logger.warn({ err: error }, 'event delivery: could not listen for changes') });
  const signer = createEventSigner(knex, {
    now: deps.now,
    secrets,
    onUnreadableKey: (kid, error) => {
      logger.error({ kid, reason: error.message }, 'event signing key cannot be decrypted; a new key replaces it (receivers fetch it from the JWKS)');
      deps.audit
        .record({ actorType: 'system', operation: 'event_signing_key.replace_unreadable', resourceType: 'EventSigningKey', resourceId: kid, detail: { reason: error.message } })
        .catch((auditError: unknown) => logger.warn({ err: auditError }, 'could not audit the replacement of an unreadable signing key'));
    },
  });
  const loadResource = createResourceLoader(knex, `${config.publicUrl}/scim_v2`);
  const listeners: Array<(attempt: DeliveryAttempt) => void> = [];
  const authorizers: PollAuthorizer[] = [];
  const streams = createEventStreamService(knex, { changeLog, allowInsecureEndpoints: config.allowInsecureIssuers, audit: deps.audit, now: deps.now, secrets });
  const worker = createDeliveryWorker(knex, {
    changeLog,
    signer,
    issuer: config.publicUrl,
    loadResource,
    leaseMs: config.events.leaseMs,
    secrets,
    retryBaseMs: config.events.retryBaseMs,
    onAttempt: (attempt) => {
      for (const listener of listeners) listener(attempt);
    },
    onError: (error, streamId) => logger.warn({ err: error, streamId }, 'event delivery: error; retrying'),
  });
  const poll = createPollService(knex, { changeLog, signer, issuer: config.publicUrl, loadResource, visibilityTimeoutMs: config.events.visibilityTimeoutMs });
  return {
    changeLog,
    streams,
    signer,
    signingKeys: createSigningKeyAdmin({ signer, audit: deps.audit, now: deps.now }),
    secrets,
    async reencryptSecrets() {
      const swept = await reencryptEventSecrets(knex, secrets);
      if (swept.reencrypted > 0) logger.info({ count: swept.reencrypted, keyId: secrets.currentKeyId }, 'event secrets re-encrypted under the current encryption key');
      for (const item of swept.unreadable) {
        logger.error({ kind: item.kind, id: item.id, reason: item.reason }, 'an event secret cannot be decrypted with ROSTER_ENCRYPTION_KEY');
      }
    },
    worker,
    poll,
    async authorizePoll(streamId, token) {
      if (await streams.authenticatePoll(streamId, token)) return true;
      for (const authorizer of authorizers) if (await authorizer(streamId, token)) return true;
      return false;
    },
    addPollAuthorizer: (authorizer) => void authorizers.push(authorizer),
    onAttempt: (listener) => void listeners.push(listener),
  };
}
