// Identity-provider habits that bend RFC 7643, each in one named place with the fixture that records it.

/**
 * QUIRK (Entra ID): booleans arrive as strings, "True" and "False" (any case), both in resource bodies and in
 * PATCH values (`{"op": "Replace", "path": "active", "value": "False"}`), also in the default mode the Entra
 * documentation calls non-compliant. RFC 7643 §2.3.2 wants JSON `true`/`false`; we read the strings as booleans
 * everywhere a boolean attribute is expected. Fixture: patch/fixtures/entra-user-patch.json.
 * Returns undefined for anything that is not such a string, so the caller reports the type error.
 */
export function readStringBoolean(value: string): boolean | undefined {
  const lower = value.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  return undefined;
}

/**
 * QUIRK (Entra ID): the enterprise `manager` is sent as the bare id of the manager
 * (`{"op": "Add", "path": "urn:...:enterprise:2.0:User:manager", "value": "2819c223-..."}`) where RFC 7643 §4.3
 * defines a complex attribute `{ "value": "2819c223-..." }`. A string given for `manager` is read as its `value`.
 * Fixture: patch/fixtures/entra-user-patch.json.
 */
export function readManagerGivenAsString(attributeName: string, value: unknown): unknown {
  if (attributeName === 'manager' && typeof value === 'string') return { value };
  return value;
}
