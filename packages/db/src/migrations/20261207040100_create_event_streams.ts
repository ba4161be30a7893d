import type { Knex } from 'knex';
import { runStatements } from './sql.js';

// Provisioning events (RFC 9967 SETs delivered by push, RFC 8935, or poll, RFC 8936); docs/events.md.
//
// event_signing_keys: the ES256 keys SETs are signed with. The newest key that is not retired signs; a retired
// key stays published in the JWKS until `retired_at + overlap`, so receivers that cached the old key still verify
// SETs signed just before a rotation. The private JWK is never returned by any API.
//
// event_streams: one row per stream, holding its place in the directory change log (`cursor`) and the lease
// (`lease_owner`, `lease_until`) a process takes before delivering, so exactly one process sends a push stream's
// SETs at a time, in order. The retry state (`retry_attempt`, `next_attempt_at`, `failing_since`) lives here too,
// so a process that takes over after a crash continues the same backoff.
//
// event_poll_pending: SETs handed out by poll and not yet acknowledged (RFC 8936 §2.4), in order; a SET becomes
// visible again after `visible_after` (redelivery after the visibility timeout).
//
// event_deliveries: one row per delivery attempt (push), acknowledgement or error report (poll), for the admin.
export async function up(knex: Knex): Promise<void> {
  await runStatements(knex, `
    CREATE TABLE event_signing_keys (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      kid text NOT NULL,
      public_jwk jsonb NOT NULL,
      private_jwk jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      retired_at timestamptz
    );
    CREATE UNIQUE INDEX event_signing_keys__kid ON event_signing_keys (kid);
    CREATE TABLE event_streams (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL,
      delivery text NOT NULL CHECK (delivery IN ('push', 'poll')),
      endpoint_url text,
      audience text NOT NULL,
      authorization_header text,
      events jsonb,
      format text NOT NULL CHECK (format IN ('notice', 'full')),
      client_ids jsonb,
      state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused', 'failing')),
      cursor text NOT NULL,
      poll_token_hash text,
      poll_token_hint text,
      lease_owner text,
      lease_until timestamptz,
      retry_attempt integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz,
      failing_since timestamptz,
      last_delivery_at timestamptz,
      last_delivery_status text,
      last_error text,
      delivered_count bigint NOT NULL DEFAULT 0,
      failed_count bigint NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX event_streams__lower_name ON event_streams (lower(name));
    CREATE UNIQUE INDEX event_streams__poll_token_hash ON event_streams (poll_token_hash) WHERE poll_token_hash IS NOT NULL;
    CREATE TABLE event_poll_pending (
      seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      stream_id uuid NOT NULL REFERENCES event_streams (id) ON DELETE CASCADE,
      jti text NOT NULL,
      event_uri text NOT NULL,
      resource text,
      token text NOT NULL,
      visible_after timestamptz NOT NULL DEFAULT now(),
      handed_out integer NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX event_poll_pending__stream_id_jti ON event_poll_pending (stream_id, jti);
    CREATE INDEX event_poll_pending__stream_id_seq ON event_poll_pending (stream_id, seq);
    CREATE TABLE event_deliveries (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      stream_id uuid NOT NULL REFERENCES event_streams (id) ON DELETE CASCADE,
      at timestamptz NOT NULL DEFAULT now(),
      jti text NOT NULL,
      event_uri text NOT NULL,
      resource text,
      outcome text NOT NULL,
      http_status integer,
      err text,
      description text,
      duration_ms integer,
      attempt integer NOT NULL DEFAULT 1
    );
    CREATE INDEX event_deliveries__stream_id_at ON event_deliveries (stream_id, at DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await runStatements(knex, `
    DROP TABLE IF EXISTS event_deliveries;
    DROP TABLE IF EXISTS event_poll_pending;
    DROP TABLE IF EXISTS event_streams;
    DROP TABLE IF EXISTS event_signing_keys;
  `);
}
