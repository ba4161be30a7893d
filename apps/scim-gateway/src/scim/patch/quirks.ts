// Identity-provider habits of PATCH that go beyond RFC 7644 §3.5.2, each in one named place with its fixture.
// (Quirks of values, such as string booleans, live in resource/quirks.ts.)

import type { Filter } from '../filter/ast.js';
import { normalizeMembers, type MemberRef } from '../resource/normalize.js';
import type { JsonObject } from '../resource/values.js';

/**
 * QUIRK (Entra ID): members are removed with path `members` and the members to remove as the value,
 * `{"op": "Remove", "path": "members", "value": [{"value": "<id>"}]}`. RFC 7644 §3.5.2.2 reads a remove of
 * `members` without a filter as "remove all members"; Entra means exactly those. A remove with a value list
 * therefore removes those members only (an empty list removes nobody); without a value, or with null, it
 * removes all as the RFC says. Fixture: patch/fixtures/entra-group-patch.json.
 * Returns undefined when the operation carries no value.
 */
export function removedMembersGivenAsValue(value: unknown): MemberRef[] | undefined {
  if (value === undefined || value === null) return undefined;
  return normalizeMembers(value);
}

/**
 * QUIRK (Entra ID): `{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "a@example.com"}` for a
 * user who has no work email yet. RFC 7644 §3.5.2.3 answers 400 noTarget; Entra expects the email to be
 * created, and so does every Entra-provisioned app. When the filter is only `eq` comparisons of sub-attributes
 * joined with `and`, the element those comparisons describe is created with the sub-attribute set:
 * `{"type": "work", "value": "a@example.com"}`. Any other filter still answers noTarget.
 * Fixture: patch/fixtures/entra-user-patch.json.
 */
export function elementDescribedByFilter(filter: Filter): JsonObject | undefined {
  const comparisons = filter.kind === 'and' ? filter.filters : [filter];
  const element: JsonObject = {};
  for (const comparison of comparisons) {
    if (comparison.kind !== 'compare' || comparison.op !== 'eq' || comparison.path.subAttribute !== undefined || comparison.path.uri !== undefined) {
      return undefined;
    }
    const name = comparison.path.attribute;
    if (comparison.value === null || Object.keys(element).some((key) => key.toLowerCase() === name.toLowerCase())) return undefined;
    element[name] = comparison.value;
  }
  return element;
}
