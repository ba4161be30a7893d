// Properties of PATCH on declared extension paths (issue 22): with any message, the answer is a result or a
// 4xx, under either unknownExtensions policy; what a PATCH produces is a document a PUT would store unchanged;
// and the common operations do what RFC 7644 §3.5.2 says on `urn:...:attribute` paths and value paths.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScimError } from '../errors.js';
import { normalizeResourceData } from '../resource/normalize.js';
import type { JsonObject } from '../resource/values.js';
import { attribute, multiValued } from '../schemas/define.js';
import { buildSchemaSet, withSchemas, type SchemaSet } from '../schemas/index.js';
import { applyUserPatch, parsePatchRequest, PATCH_OP_SCHEMA } from './index.js';

const SEED = 20261207;
const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';

function setWith(unknownExtensions: 'reject' | 'keep'): SchemaSet {
  return buildSchemaSet(
    [
      {
        resourceType: 'User',
        required: false,
        schema: {
          id: ACME,
          name: 'User',
          description: '',
          attributes: [
            attribute('costCenter', 'string', ''),
            attribute('level', 'integer', ''),
            attribute('tags', 'string', '', { multiValued: true }),
            multiValued('badges', ''),
          ],
        },
      },
    ],
    { unknownExtensions },
  );
}
const sets = { reject: setWith('reject'), keep: setWith('keep') };

const paths = fc.constantFrom(
  `${ACME}:costCenter`, `${ACME}:COSTCENTER`, `${ACME}:level`, `${ACME}:tags`, `${ACME}:badges`, `${ACME}:badges.value`,
  `${ACME}:badges[type eq "door"]`, `${ACME}:badges[type eq "door"].value`, `${ACME}:badges[value sw "B"].primary`, `${ACME}:nope`,
  ACME, `${ACME}:costCenter.x`, 'urn:ietf:params:scim:schemas:extension:other:2.0:User:region', 'urn:ietf:params:scim:schemas:extension:other:2.0:User',
  `${ACME}:badges[nope eq "x"]`, 'title',
);
const scalar = fc.oneof(fc.string({ maxLength: 6 }), fc.integer({ min: -5, max: 5 }), fc.boolean(), fc.constant(null), fc.constantFrom('door', 'B-1', 'True'));
const badge = fc.dictionary(fc.constantFrom('value', 'type', 'primary', 'display', 'x'), scalar, { maxKeys: 3 });
const value = fc.oneof(scalar, badge, fc.array(fc.oneof(badge, scalar), { maxLength: 3 }), fc.dictionary(fc.constantFrom('costCenter', 'level', 'tags', 'badges', 'region', `${ACME}:level`), fc.oneof(scalar, fc.array(badge, { maxLength: 2 })), { maxKeys: 3 }));
const operation = fc.record({ op: fc.constantFrom('add', 'replace', 'remove', 'Replace'), path: fc.option(paths, { nil: undefined }), value }, { requiredKeys: ['op'] });
const messages = fc.array(operation, { minLength: 1, maxLength: 4 });

const user: JsonObject = { userName: 'bjensen', [ACME]: { costCenter: '4711', badges: [{ value: 'B-1', type: 'door' }] } };

function patch(set: SchemaSet, before: JsonObject, operations: unknown[]) {
  return withSchemas(set, () => applyUserPatch(before, parsePatchRequest({ schemas: [PATCH_OP_SCHEMA], Operations: operations })));
}

describe('PATCH on extension paths (property)', () => {
  for (const policy of ['reject', 'keep'] as const) {
    it(`answers a result that a PUT would store unchanged, or a 4xx, never anything else (unknownExtensions "${policy}")`, () => {
      fc.assert(
        fc.property(messages, (operations) => {
          let result;
          try {
            result = patch(sets[policy], user, operations);
          } catch (error) {
            if (error instanceof ScimError && error.status >= 400 && error.status < 500) return;
            throw error;
          }
          expect(withSchemas(sets[policy], () => normalizeResourceData('User', result.data))).toEqual(result.data);
        }),
        { seed: SEED, numRuns: 400 },
      );
    });
  }

  it('replace sets the value, remove unsets it, and an emptied extension object disappears', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 10 }), (text) => {
        const replaced = patch(sets.reject, user, [{ op: 'replace', path: `${ACME}:costCenter`, value: text }]);
        expect((replaced.data[ACME] as JsonObject).costCenter).toBe(text);
        const removed = patch(sets.reject, replaced.data, [{ op: 'remove', path: `${ACME}:costCenter` }, { op: 'remove', path: `${ACME}:badges` }]);
        expect(removed.data).toEqual({ userName: 'bjensen' });
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  // With no value selected, the QUIRK of quirks.ts elementDescribedByFilter (Entra) appends the element the
  // filter describes instead of answering noTarget.
  it('a value path changes exactly the values its filter selects (or adds the one it describes)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('door', 'parking', 'lab'), { minLength: 1, maxLength: 5 }), fc.string({ minLength: 1, maxLength: 6 }), (types, text) => {
        const badges = types.map((type, index) => ({ value: `B-${index}`, type }));
        const before = { userName: 'u', [ACME]: { badges } };
        const after = patch(sets.reject, before, [{ op: 'replace', path: `${ACME}:badges[type eq "door"].value`, value: text }]);
        const result = (after.data[ACME] as { badges: Array<{ value: string; type: string }> }).badges;
        const described = types.includes('door') ? [] : ['door'];
        expect(result.map((badge) => badge.type)).toEqual([...types, ...described]);
        result.forEach((badge, index) => expect(badge.value).toBe(badge.type === 'door' ? text : `B-${index}`));
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});
