// Property: whatever a client sends as a PATCH message or a resource body, the answer is a result or a 4xx
// ScimError, never a TypeError (a 500). Fixed seed for reproducible runs; fast-check reports the seed and the
// shrunk counterexample on failure (rerun with that seed and `path` to replay it).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScimError } from '../errors.js';
import { normalizeGroupInput, normalizeUserInput } from '../resource/normalize.js';
import type { JsonObject } from '../resource/values.js';
import { addsOrRemovesListedMembers, applyGroupPatch, applyUserPatch, parsePatchRequest, PATCH_OP_SCHEMA } from './index.js';

const SEED = 20261128;
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const paths = fc.constantFrom(
  'userName', 'USERNAME', 'displayName', 'active', 'title', 'name', 'name.givenName', 'name.nope', 'emails', 'emails.value',
  'emails[type eq "work"]', 'emails[type eq "work"].value', 'emails[TYPE eq "home"].primary', 'emails[value co "x" or primary eq true]',
  'emails[primary eq True].type', 'emails[type eq work].value', 'phoneNumbers[type eq "mobile"].value', 'addresses[type eq "work"].country',
  'x509Certificates', 'externalId', 'id', 'meta', 'meta.version', 'groups', 'password', 'members', 'members[value eq "u1"]',
  'members[value eq "u1" or value eq "u2"]', 'members[display eq "x"]', 'members.value', 'members[value eq "u1"].display',
  `${ENTERPRISE}:manager`, `${ENTERPRISE}:manager.value`, `${ENTERPRISE}:manager.displayName`, `${ENTERPRISE}:department`, ENTERPRISE,
  'urn:ietf:params:scim:schemas:extension:microsoft:2.0:User:x', 'urn:bad', 'emails[', 'emails[type eq "work"', 'a.b.c', '', ' ', 'emails]',
  'name[givenName eq "B"].familyName', 'emails[type eq "work"][x]', 'nope', '$ref',
);

const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.boolean(), fc.integer(), fc.double(), fc.constant(null), fc.constantFrom('True', 'false', 'work', 'u1', 'u2', 'Group', 'User'));
const element = fc.dictionary(fc.constantFrom('value', 'type', 'primary', 'display', '$ref', 'Value', 'givenName', 'id', 'x'), scalar, { maxKeys: 4 });
const valueKey = fc.oneof(paths, fc.constantFrom('name.familyName', `${ENTERPRISE}:employeeNumber`, 'schemas', 'Active'));
const value = fc.oneof(
  scalar,
  element,
  fc.array(element, { maxLength: 3 }),
  fc.dictionary(valueKey, fc.oneof(scalar, element, fc.array(element, { maxLength: 2 })), { maxKeys: 4 }),
  fc.jsonValue({ maxDepth: 4 }),
);
const operation = fc.oneof(
  fc.record(
    {
      op: fc.constantFrom('add', 'remove', 'replace', 'Add', 'REPLACE', 'Remove', 'move', ''),
      path: fc.oneof(paths, scalar),
      value,
    },
    { requiredKeys: ['op'] },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);
// Messages an identity provider could plausibly send, so that many reach and pass the engine.
const plausibleOperation = fc.oneof(
  fc.record({ op: fc.constantFrom('add', 'Replace'), path: fc.constantFrom('title', 'displayName', 'name.givenName', 'emails[type eq "work"].value', `${ENTERPRISE}:department`), value: fc.string({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constantFrom('replace', 'add'), path: fc.constantFrom('active', 'emails[type eq "home"].primary'), value: fc.constantFrom(true, false, 'True', 'false') }),
  fc.record({ op: fc.constantFrom('add', 'replace', 'remove'), path: fc.constantFrom('emails', 'members'), value: fc.array(fc.record({ value: fc.constantFrom('u1', 'u2', 'a@b.c'), type: fc.constantFrom('work', 'User') }, { requiredKeys: ['value'] }), { maxLength: 2 }) }),
  fc.record({ op: fc.constantFrom('remove', 'Remove'), path: fc.constantFrom('title', 'name', 'emails[type eq "work"]', 'members[value eq "u1"]', ENTERPRISE) }),
  fc.record({ op: fc.constantFrom('replace', 'add'), value: fc.record({ displayName: fc.string({ maxLength: 8 }), active: fc.boolean(), id: fc.string() }, { requiredKeys: [] }) }),
);
const message = fc.oneof(
  { weight: 6, arbitrary: fc.record({ schemas: fc.constant([PATCH_OP_SCHEMA]), Operations: fc.array(plausibleOperation, { minLength: 1, maxLength: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ schemas: fc.constant([PATCH_OP_SCHEMA]), Operations: fc.array(operation, { minLength: 1, maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.record({ schemas: fc.oneof(fc.constant([PATCH_OP_SCHEMA]), fc.jsonValue()), Operations: fc.jsonValue({ maxDepth: 3 }) }) },
);

const user: JsonObject = {
  userName: 'bjensen',
  active: true,
  name: { givenName: 'Barbara' },
  emails: [{ value: 'bj@example.com', type: 'work', primary: true }, { value: 'b@home.org', type: 'home' }],
  [ENTERPRISE]: { manager: { value: 'm1' } },
};

/** Runs `action`; a ScimError must be a 4xx, anything else thrown fails the property. */
function resultOrClientError<T>(action: () => T): T | ScimError {
  try {
    return action();
  } catch (error) {
    if (error instanceof ScimError && error.status >= 400 && error.status < 500) return error;
    throw error;
  }
}

describe('property: client input never causes anything but a result or a 4xx ScimError', () => {
  it('PATCH messages on users and groups', () => {
    let applied = 0;
    let membersOnly = 0;
    fc.assert(
      fc.property(message, (body) => {
        const operations = resultOrClientError(() => parsePatchRequest(body));
        if (operations instanceof ScimError) return;
        const patched = resultOrClientError(() => applyUserPatch(user, operations));
        if (!(patched instanceof ScimError)) {
          applied += 1;
          // A PATCH result is a valid PUT body: normalizing it again changes nothing.
          expect(normalizeUserInput(patched.data).data).toEqual(patched.data);
        }
        const grouped = resultOrClientError(() => applyGroupPatch({ displayName: 'G' }, operations));
        if (!(grouped instanceof ScimError)) expect(normalizeGroupInput(grouped.data).data).toEqual(grouped.data);
        if (!(grouped instanceof ScimError) && operations.every(addsOrRemovesListedMembers)) {
          membersOnly += 1;
          // What the concurrent member path of service/groups.ts relies on, decided without reading the group.
          expect(grouped.changed).toBe(false);
          expect(grouped.members.replaceAll).toBe(false);
        }
      }),
      { seed: SEED, numRuns: 3000 },
    );
    // The generator must reach the engine, not only the message checks: a fair share of messages apply.
    expect(applied).toBeGreaterThan(600);
    expect(membersOnly).toBeGreaterThan(20);
  });

  it('POST and PUT bodies', () => {
    let accepted = 0;
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({
        userName: fc.string({ minLength: 1, maxLength: 8 }),
        displayName: fc.string({ maxLength: 8 }),
        active: fc.constantFrom(true, 'False', null),
        emails: fc.array(fc.record({ value: fc.string({ maxLength: 8 }), type: fc.constantFrom('work', 'home') }), { maxLength: 2 }),
        members: fc.array(fc.record({ value: fc.constantFrom('u1', 'u2') }), { maxLength: 2 }),
        [ENTERPRISE]: fc.record({ department: fc.string({ maxLength: 8 }), manager: fc.oneof(fc.string({ maxLength: 8 }), fc.record({ value: fc.string({ maxLength: 8 }) })) }, { requiredKeys: [] }),
      }, { requiredKeys: [] }),
      fc.dictionary(fc.oneof(valueKey, fc.constantFrom('userName', 'displayName', 'members', 'emails', 'schemas')), fc.oneof(scalar, element, fc.array(element, { maxLength: 3 }), fc.jsonValue({ maxDepth: 3 })), { maxKeys: 6 }),
    );
    fc.assert(
      fc.property(body, (input) => {
        const asUser = resultOrClientError(() => normalizeUserInput(input));
        if (!(asUser instanceof ScimError)) {
          accepted += 1;
          expect(normalizeUserInput(asUser.data).data).toEqual(asUser.data);
        }
        resultOrClientError(() => normalizeGroupInput(input));
      }),
      { seed: SEED, numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(400);
  });
});
