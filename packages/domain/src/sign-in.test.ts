import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@roster/db/testing';
import { groupRepository } from './directory/groups.js';
import { maintainLinks } from './directory/links.js';
import { userRepository } from './directory/users.js';
import { DomainError } from './errors.js';
import { IDENTITY_MAPPING_PRESETS, parseIdentityMapping } from './identity-mapping.js';
import { createLinkRebuildService, scheduleLinkRebuild } from './link-rebuilds.js';
import { SIGN_IN_PROVIDER_CACHE_MS, STORED_LOCK_REASON, createSignInResolver } from './sign-in.js';

// Identity mapping, link maintenance and rebuilds, and sign-in resolution against a real database
// (PGlite by default, PostgreSQL with TEST_DATABASE_URL).

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.destroy());

async function provider(name: string, mapping?: object): Promise<string> {
  const [row] = (await db.knex('auth_providers').insert({ name, kind: 'oidc', identity_mapping: mapping ? JSON.stringify(mapping) : null }).returning('id')) as Array<{ id: string }>;
  return row!.id;
}

async function client(name: string, providerId: string): Promise<string> {
  const [row] = (await db.knex('scim_clients').insert({ name, auth_provider_id: providerId, auth_method: 'static_token' }).returning('id')) as Array<{ id: string }>;
  return row!.id;
}

interface NewUser {
  userName: string;
  externalId?: string;
  email?: string;
  employeeNumber?: string;
  active?: boolean;
}

async function createUser(clientId: string, providerId: string, input: NewUser): Promise<string> {
  const data: Record<string, unknown> = { userName: input.userName, active: input.active ?? true };
  if (input.externalId) data.externalId = input.externalId;
  if (input.email) data.emails = [{ value: 'other@example.com' }, { value: input.email, primary: true }];
  if (input.employeeNumber) data[ENTERPRISE] = { employeeNumber: input.employeeNumber };
  const user = await userRepository.insert(db.knex, {
    columns: {
      user_name: input.userName,
      external_id: input.externalId ?? null,
      display_name: null,
      given_name: null,
      family_name: null,
      active: input.active ?? true,
      emails_lower: input.email ? ['other@example.com', input.email.toLowerCase()] : [],
    },
    data,
    createdByClientId: clientId,
    linkProviderId: providerId,
  });
  return user.id;
}

async function linkOf(userId: string, providerId: string): Promise<string | undefined> {
  const row = (await db.knex('user_provider_links').where({ user_id: userId, provider_id: providerId }).first('external_id')) as { external_id: string } | undefined;
  return row?.external_id;
}

async function errorOf(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a DomainError');
}

describe('identity mapping', () => {
  it('offers a preset per known provider, each valid for its kind', () => {
    expect(IDENTITY_MAPPING_PRESETS.map((preset) => preset.name)).toEqual(['keycloak', 'entra_id', 'okta', 'generic_oidc', 'generic_saml']);
    expect(parseIdentityMapping({ preset: 'entra_id' }, 'oidc')).toEqual({ claim: 'oid', attribute: 'externalId' });
    expect(parseIdentityMapping({ preset: 'generic_saml' }, 'saml')).toEqual({ claim: 'NameID', attribute: 'email' });
    expect(() => parseIdentityMapping({ preset: 'generic_saml' }, 'oidc')).toThrow(/for SAML providers/);
    expect(() => parseIdentityMapping({ claim: 'sub', attribute: 'password' }, 'oidc')).toThrow(/identityMapping.attribute must be one of/);
    expect(() => parseIdentityMapping({ claim: 'has space', attribute: 'email' }, 'oidc')).toThrow(/identityMapping.claim/);
    expect(() => parseIdentityMapping('sub', 'oidc')).toThrow(/must be an object/);
  });

  it('links a new user by the mapped value: externalId, userName, the primary email or employeeNumber', async () => {
    const cases = [
      [{ claim: 'sub', attribute: 'externalId' }, 'ext-1'],
      [{ claim: 'preferred_username', attribute: 'userName' }, 'mapped.user-username'],
      [{ claim: 'email', attribute: 'email' }, 'primary@example.com'],
      [{ claim: 'employee_id', attribute: 'employeeNumber' }, 'E-42'],
    ] as const;
    for (const [mapping, expected] of cases) {
      const providerId = await provider(`map-${mapping.attribute}`, mapping);
      const clientId = await client(`client-${mapping.attribute}`, providerId);
      const userId = await createUser(clientId, providerId, { userName: `Mapped.User-${mapping.attribute}`, externalId: 'ext-1', email: 'Primary@Example.com', employeeNumber: 'E-42' });
      expect(await linkOf(userId, providerId)).toBe(expected);
    }
  });

  it('maintains links on every write, not only when externalId changes, and removes a link whose value is gone', async () => {
    const providerId = await provider('by-email', { claim: 'email', attribute: 'email' });
    const clientId = await client('email-client', providerId);
    const userId = await createUser(clientId, providerId, { userName: 'writer', email: 'first@example.com' });
    expect(await linkOf(userId, providerId)).toBe('first@example.com');

    const current = await userRepository.findById(db.knex, userId);
    const data = { ...current!.data, emails: [{ value: 'Second@Example.com', primary: true }] };
    await userRepository.update(db.knex, userId, { columns: { user_name: 'writer', external_id: null, display_name: null, given_name: null, family_name: null, active: true, emails_lower: ['second@example.com'] }, data });
    await maintainLinks(db.knex, [userId]);
    expect(await linkOf(userId, providerId)).toBe('second@example.com');

    await userRepository.update(db.knex, userId, { columns: { user_name: 'writer', external_id: null, display_name: null, given_name: null, family_name: null, active: true, emails_lower: [] }, data: { userName: 'writer' } });
    await maintainLinks(db.knex, [userId]);
    expect(await linkOf(userId, providerId)).toBeUndefined();
  });
});

describe('link rebuilds', () => {
  it('relink every user of a provider after its mapping changed, in resumable batches with visible progress', async () => {
    const providerId = await provider('rebuild-provider');
    const clientId = await client('rebuild-client', providerId);
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) ids.push(await createUser(clientId, providerId, { userName: `rebuild-${index}`, externalId: `x-${index}`, email: `r${index}@example.com` }));
    expect(await linkOf(ids[0]!, providerId)).toBe('x-0');

    await db.knex('auth_providers').where('id', providerId).update({ identity_mapping: JSON.stringify({ claim: 'email', attribute: 'email' }) });
    await scheduleLinkRebuild(db.knex, { providerId, reason: 'mapping_changed' });
    const rebuilds = createLinkRebuildService(db.knex, { batchSize: 2 });
    expect(await rebuilds.latestForProvider(providerId)).toMatchObject({ status: 'running', processed: 0, total: 5, reason: 'mapping_changed' });

    // One batch, then a "restart": a new service resumes where the committed cursor stands.
    expect(await rebuilds.runBatch()).toBe(true);
    expect(await rebuilds.latestForProvider(providerId)).toMatchObject({ status: 'running', processed: 2 });
    expect(await linkOf(ids[0]!, providerId)).toBe('r0@example.com');
    expect(await linkOf(ids[4]!, providerId)).toBe('x-4');
    await createLinkRebuildService(db.knex, { batchSize: 2 }).runUntilIdle();
    expect(await rebuilds.latestForProvider(providerId)).toMatchObject({ status: 'done', processed: 5, total: 5 });
    for (const [index, id] of ids.entries()) expect(await linkOf(id, providerId)).toBe(`r${index}@example.com`);
  });

  it("relink a client's users to its new provider and drop the old links", async () => {
    const from = await provider('from-provider');
    const to = await provider('to-provider', { claim: 'preferred_username', attribute: 'userName' });
    const clientId = await client('moving-client', from);
    const userId = await createUser(clientId, from, { userName: 'Mover', externalId: 'm-1' });
    await db.knex('scim_clients').where('id', clientId).update({ auth_provider_id: to });
    await scheduleLinkRebuild(db.knex, { providerId: to, clientId, reason: 'client_moved' });
    await createLinkRebuildService(db.knex).runUntilIdle();
    expect(await linkOf(userId, from)).toBeUndefined();
    expect(await linkOf(userId, to)).toBe('mover');
  });

  it('never runs one rebuild twice when several workers run at once', async () => {
    const providerId = await provider('parallel-provider');
    const clientId = await client('parallel-client', providerId);
    for (let index = 0; index < 6; index += 1) await createUser(clientId, providerId, { userName: `parallel-${index}`, externalId: `p-${index}` });
    await scheduleLinkRebuild(db.knex, { providerId, reason: 'mapping_changed' });
    const workers = [createLinkRebuildService(db.knex, { batchSize: 1 }), createLinkRebuildService(db.knex, { batchSize: 1 })];
    await Promise.all(workers.map((worker) => worker.runUntilIdle()));
    // Each user counted once: a batch taken by one worker was skipped (SKIP LOCKED) by the other.
    expect(await workers[0]!.latestForProvider(providerId)).toMatchObject({ status: 'done', processed: 6, total: 6 });
  });
});

describe('sign-in resolution', () => {
  let providerId: string;
  let clientId: string;
  beforeAll(async () => {
    providerId = await provider('resolve-provider', { claim: 'sub', attribute: 'externalId' });
    clientId = await client('resolve-client', providerId);
  });

  it('answers found with the user and their groups', async () => {
    const userId = await createUser(clientId, providerId, { userName: 'ada', externalId: 'sub-ada', email: 'ada@example.com' });
    const group = await groupRepository.insert(db.knex, { columns: { display_name: 'Engineers', external_id: null }, data: { displayName: 'Engineers' }, createdByClientId: null });
    await groupRepository.addMembers(db.knex, group.id, [userId]);
    const resolution = await createSignInResolver(db.knex).resolveByClaims(providerId, { sub: 'sub-ada', aud: 'x' });
    expect(resolution).toEqual({
      status: 'found',
      user: { id: userId, userName: 'ada', externalId: 'sub-ada', displayName: null, name: null, emails: [{ value: 'other@example.com' }, { value: 'ada@example.com', primary: true }], active: true },
      groups: [{ value: group.id, display: 'Engineers' }],
    });
  });

  it('answers inactive with the public reason and no user', async () => {
    const resolver = createSignInResolver(db.knex);
    const deactivated = await createUser(clientId, providerId, { userName: 'gone', externalId: 'sub-gone' });
    await userRepository.lock(db.knex, deactivated, STORED_LOCK_REASON.inactive);
    expect(await resolver.resolveByClaims(providerId, { sub: 'sub-gone' })).toEqual({ status: 'inactive', reason: 'deactivated_by_provider' });
    const refused = await createUser(clientId, providerId, { userName: 'refused', externalId: 'sub-refused' });
    await userRepository.lock(db.knex, refused, STORED_LOCK_REASON.deleteRefused);
    expect(await resolver.resolveByClaims(providerId, { sub: 'sub-refused' })).toEqual({ status: 'inactive', reason: 'deletion_refused' });
    await createUser(clientId, providerId, { userName: 'born-inactive', externalId: 'sub-inactive', active: false });
    expect(await resolver.resolveByClaims(providerId, { sub: 'sub-inactive' })).toEqual({ status: 'inactive', reason: 'deactivated_by_provider' });
  });

  it('answers unknown and ambiguous without a user', async () => {
    const resolver = createSignInResolver(db.knex);
    expect(await resolver.resolveByClaims(providerId, { sub: 'nobody' })).toEqual({ status: 'unknown' });
    await createUser(clientId, providerId, { userName: 'twin-1', externalId: 'sub-twin' });
    await createUser(clientId, providerId, { userName: 'twin-2', externalId: 'sub-twin' });
    expect(await resolver.resolveByClaims(providerId, { sub: 'sub-twin' })).toEqual({ status: 'ambiguous' });
  });

  it('compares userName and email case-insensitively', async () => {
    const byEmail = await provider('resolve-by-email', { claim: 'email', attribute: 'email' });
    const emailClient = await client('resolve-email-client', byEmail);
    const userId = await createUser(emailClient, byEmail, { userName: 'grace', email: 'Grace@Example.com' });
    expect(await createSignInResolver(db.knex).resolveByClaims(byEmail, { email: 'GRACE@example.COM' })).toMatchObject({ status: 'found', user: { id: userId } });
  });

  it('refuses bad input with a precise error, never found', async () => {
    const resolver = createSignInResolver(db.knex);
    expect((await errorOf(resolver.resolveByClaims('00000000-0000-4000-8000-000000000000', { sub: 'sub-ada' }))).code).toBe('not_found');
    expect((await errorOf(resolver.resolveByClaims('not-a-uuid', { sub: 'sub-ada' }))).code).toBe('not_found');
    const missing = await errorOf(resolver.resolveByClaims(providerId, { email: 'ada@example.com' }));
    expect([missing.code, missing.message]).toEqual(['invalid_input', `the claims lack "sub", the claim this provider's identity mapping names`]);
    const wrongType = await errorOf(resolver.resolveByClaims(providerId, { sub: ['sub-ada'] }));
    expect([wrongType.code, wrongType.message]).toEqual(['invalid_input', 'the claim "sub" must be a string, not array']);
    expect((await errorOf(resolver.resolveByClaims(providerId, { sub: 42 }))).message).toBe('the claim "sub" must be a string, not number');
  });

  it('keeps a provider for ID token verification at most SIGN_IN_PROVIDER_CACHE_MS, and forgets it at once when told', async () => {
    let clock = 1_000_000;
    const resolver = createSignInResolver(db.knex, { now: () => clock });
    const cached = await provider('cached-provider');
    await db.knex('auth_providers').where('id', cached).update({ issuer: 'https://one.example', client_id: 'app' });
    expect(await resolver.provider(cached)).toMatchObject({ issuer: 'https://one.example', clientId: 'app' });
    await db.knex('auth_providers').where('id', cached).update({ issuer: 'https://two.example' });
    clock += SIGN_IN_PROVIDER_CACHE_MS - 1;
    expect((await resolver.provider(cached)).issuer).toBe('https://one.example');
    clock += 1;
    expect((await resolver.provider(cached)).issuer).toBe('https://two.example');
    await db.knex('auth_providers').where('id', cached).update({ issuer: 'https://three.example' });
    resolver.forget(cached);
    expect((await resolver.provider(cached)).issuer).toBe('https://three.example');
    await db.knex('auth_providers').where('id', cached).delete();
    resolver.forget(cached);
    expect((await errorOf(resolver.provider(cached))).code).toBe('not_found');
  });
});
