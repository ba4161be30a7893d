/**
 * The keys of a stored document that are schema URNs (its extension values, RFC 7643 §3.3), read from the
 * document's JSON text as PostgreSQL writes jsonb, in the order they appear there.
 *
 * A read of a user for a response has the document as text already (it is spliced into the response
 * unparsed); finding its top-level URN keys here costs a scan of that text, where asking PostgreSQL for them
 * (`ARRAY(SELECT k FROM jsonb_object_keys(data) ...)`) cost a sub-select per row in the database and an array
 * to decode in the driver, on every filtered GET and GET by id (docs/benchmarks.md, run 33).
 *
 * Nearly every document is answered by the first test: no `"urn:` anywhere means no URN key.
 */
const URN_KEY_START = /"urn:/i;
const URN = /^urn:/i;
const NONE: readonly string[] = Object.freeze([]);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const SPACE = 0x20;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

export function urnKeysOf(json: string): readonly string[] {
  if (!URN_KEY_START.test(json)) return NONE;
  let keys: string[] | undefined;
  let depth = 0;
  const length = json.length;
  for (let index = 0; index < length; index++) {
    const code = json.charCodeAt(index);
    if (code === QUOTE) {
      // A string: find its closing quote, stepping over escapes.
      let end = index + 1;
      for (;;) {
        const inner = json.charCodeAt(end);
        if (inner === BACKSLASH) end += 2;
        else if (inner === QUOTE || end >= length) break;
        else end += 1;
      }
      if (depth === 1) {
        // A member name of the top-level object is followed by `:` (jsonb writes `": "`).
        let after = end + 1;
        while (json.charCodeAt(after) === SPACE) after += 1;
        if (json.charCodeAt(after) === COLON) {
          const key = JSON.parse(json.slice(index, end + 1)) as string;
          if (URN.test(key)) (keys ??= []).push(key);
        }
      }
      index = end;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth += 1;
    else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) depth -= 1;
  }
  return keys ?? NONE;
}
