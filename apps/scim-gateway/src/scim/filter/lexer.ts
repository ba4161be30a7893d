// The filter lexer (RFC 7644 §3.4.2.2): a table of sticky regular expressions tried in order at the current
// position. Every pattern is linear: alternatives are disjoint character classes and no quantified group can
// match the same text two ways, so no input can make a pattern backtrack more than a constant per character.

export type TokenKind = 'lparen' | 'rparen' | 'lbracket' | 'rbracket' | 'string' | 'number' | 'word';

export interface Token {
  kind: TokenKind;
  /** The source text of the token. */
  text: string;
  /** 1-based position of the token's first character in the filter. */
  position: number;
}

/** Raised by the lexer; the parser turns it into the caller's ScimError kind (invalidFilter or invalidPath). */
export class LexError extends Error {
  override name = 'LexError';
  constructor(
    readonly position: number,
    message: string,
  ) {
    super(message);
  }
}

// A character that ends a word or number: whitespace, parentheses, brackets, a double quote.
const DELIMITER = String.raw`\s()\[\]"`;

const TOKEN_PATTERNS: ReadonlyArray<{ kind: TokenKind | 'space'; pattern: RegExp }> = [
  { kind: 'space', pattern: /\s+/y },
  { kind: 'lparen', pattern: /\(/y },
  { kind: 'rparen', pattern: /\)/y },
  { kind: 'lbracket', pattern: /\[/y },
  { kind: 'rbracket', pattern: /\]/y },
  // A JSON string (RFC 8259 §7): no raw control characters, only the JSON escapes.
  // eslint-disable-next-line no-control-regex -- excluding raw control characters is the point (RFC 8259 §7)
  { kind: 'string', pattern: /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y },
  // A JSON number (RFC 8259 §6) standing alone: `123abc` is not a number but a word.
  { kind: 'number', pattern: new RegExp(String.raw`-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?=[${DELIMITER}]|$)`, 'y') },
  // Attribute paths, operators, keywords and lenient bare values: anything up to the next delimiter. The parser
  // decides what a word may be where it stands.
  { kind: 'word', pattern: new RegExp(`[^${DELIMITER}]+`, 'y') },
];

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  outer: while (index < text.length) {
    for (const { kind, pattern } of TOKEN_PATTERNS) {
      pattern.lastIndex = index;
      const match = pattern.exec(text);
      if (!match) continue;
      if (kind !== 'space') tokens.push({ kind, text: match[0], position: index + 1 });
      index = pattern.lastIndex;
      continue outer;
    }
    // Only a double quote that does not open a valid JSON string gets here.
    throw new LexError(index + 1, describeBadString(text, index));
  }
  return tokens;
}

/** Says precisely why the string starting at `start` (a double quote) is not a valid JSON string. */
function describeBadString(text: string, start: number): string {
  for (let i = start + 1; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 0x22) break;
    if (code < 0x20) return `control character U+${code.toString(16).padStart(4, '0').toUpperCase()} at ${i + 1} must be escaped in a string`;
    if (code === 0x5c) {
      const escape = text.slice(i + 1, i + 6);
      if (/^["\\/bfnrt]/.test(escape)) i += 1;
      else if (/^u[0-9a-fA-F]{4}/.test(escape)) i += 5;
      else return `invalid escape sequence '\\${escape.slice(0, 1)}' at ${i + 1} in a string`;
    }
  }
  return 'unterminated string: expected a closing \'"\'';
}

/** Decodes a string token's JSON escapes. The lexer pattern guarantees the text is valid JSON. */
export function decodeString(token: Token): string {
  return JSON.parse(token.text) as string;
}
