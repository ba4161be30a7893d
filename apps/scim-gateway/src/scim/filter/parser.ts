// A recursive-descent parser for the filter grammar of RFC 7644 §3.4.2.2 and the PATCH path grammar of
// RFC 7644 §3.5.2, producing the AST of ast.ts. Errors carry the 1-based position and what was expected.
//
//   FILTER    = orExpr
//   orExpr    = andExpr *("or" andExpr)               ; "and" binds tighter than "or"
//   andExpr   = unary *("and" unary)
//   unary     = "not" "(" FILTER ")" / "(" FILTER ")" / attrPath "[" valFilter "]"
//             / attrPath "pr" / attrPath compareOp compValue
//   PATH      = attrPath [ "[" valFilter "]" [ "." subAttr ] ]
//
// Operators and the keywords and/or/not/true/false/null are case-insensitive (RFC 7644 §3.4.2.2: "attribute names
// and attribute operators used in filters are case insensitive").

import { ScimError } from '../errors.js';
import { allSchemas } from '../schemas/index.js';
import type { AttributePath, CompareOperator, Filter, FilterValue, PatchPath } from './ast.js';
import { LexError, decodeString, tokenize, type Token } from './lexer.js';

/** Limits against hostile input (issue 6): longer or more complex filters get 400 invalidFilter. */
export const FILTER_LIMITS = {
  /** Characters in the filter text. */
  maxLength: 4096,
  /** Attribute expressions (comparisons and `pr`) in one filter. */
  maxComparisons: 100,
  /** Nesting of parentheses, `not` and value paths. */
  maxDepth: 32,
  /**
   * Costly clauses in one filter (validate.ts, `filterCost`): each `co` or `ew` comparison (no index serves it: a
   * scan), and each clause on a multi-valued attribute (`groups[...]`, `emails.value eq`: a subquery per row). A
   * legal 2.8 KB filter of 100 `groups[display co ...]` took 20-30 s at 50,000 users (issue 20, item 5);
   * identity providers send one `eq`.
   */
  maxCostlyClauses: 10,
} as const;

const COMPARE_OPERATORS: ReadonlySet<string> = new Set<CompareOperator>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);

// ATTRNAME of RFC 7643 §2.1 (`ALPHA *(nameChar)`), plus `$ref` which RFC 7643 §2.4 uses as a sub-attribute name.
const ATTRIBUTE_NAME = /^(?:[A-Za-z][A-Za-z0-9_-]*|\$ref)$/;
const SUB_ATTRIBUTE_SUFFIX = /^\.(?:[A-Za-z][A-Za-z0-9_-]*|\$ref)$/;
const URN_PREFIX = /^urn:[A-Za-z0-9][A-Za-z0-9-]*:[^\s]+$/i;

/** The error kind: filters answer invalidFilter, PATCH paths invalidPath (RFC 7644 §3.12). */
type Mode = 'filter' | 'path';

/** Parses a `filter` query parameter (RFC 7644 §3.4.2.2). Throws ScimError 400 invalidFilter. */
export function parseFilter(text: string): Filter {
  const parser = new Parser(text, 'filter');
  return parser.parseWholeFilter();
}

/** Parses a PATCH operation path (RFC 7644 §3.5.2). Throws ScimError 400 invalidPath. */
export function parsePatchPath(text: string): PatchPath {
  const parser = new Parser(text, 'path');
  return parser.parseWholePatchPath();
}

/** Parses a filter written inside a PATCH path's brackets on its own (no attribute prefix); errors are invalidPath. */
export function parseValueFilter(text: string): Filter {
  const parser = new Parser(text, 'path');
  return parser.parseWholeFilter(true);
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private comparisons = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly mode: Mode,
  ) {
    const what = mode === 'filter' ? 'filter' : 'path';
    if (text.length > FILTER_LIMITS.maxLength) {
      throw this.error(`the ${what} is ${text.length} characters long; at most ${FILTER_LIMITS.maxLength} are accepted`);
    }
    try {
      this.tokens = tokenize(text);
    } catch (error) {
      if (error instanceof LexError) throw this.error(`at ${error.position}: ${error.message}`);
      throw error;
    }
    if (this.tokens.length === 0) throw this.error(`the ${what} is empty`);
  }

  parseWholeFilter(insideValuePath = false): Filter {
    const filter = this.parseOr(insideValuePath);
    const rest = this.peek();
    if (rest) throw this.unexpected(rest, "'and', 'or' or the end of the filter");
    return filter;
  }

  parseWholePatchPath(): PatchPath {
    const first = this.next("an attribute path");
    const path = this.attributePath(first);
    const bracket = this.peek();
    if (!bracket) return { path };
    if (bracket.kind !== 'lbracket') throw this.unexpected(bracket, "'[' or the end of the path");
    this.index += 1;
    const valueFilter = this.parseValuePathBody(path, bracket);
    const after = this.peek();
    if (!after) return { path, valueFilter };
    this.index += 1;
    if (after.kind !== 'word' || !SUB_ATTRIBUTE_SUFFIX.test(after.text)) {
      throw this.unexpected(after, "'.' and a sub-attribute name, or the end of the path");
    }
    const trailing = this.peek();
    if (trailing) throw this.unexpected(trailing, 'the end of the path');
    return { path, valueFilter, subAttribute: after.text.slice(1) };
  }

  private parseOr(insideValuePath: boolean): Filter {
    const filters = [this.parseAnd(insideValuePath)];
    while (this.peekKeyword('or')) {
      this.index += 1;
      filters.push(this.parseAnd(insideValuePath));
    }
    return filters.length === 1 ? filters[0]! : { kind: 'or', filters };
  }

  private parseAnd(insideValuePath: boolean): Filter {
    const filters = [this.parseUnary(insideValuePath)];
    while (this.peekKeyword('and')) {
      this.index += 1;
      filters.push(this.parseUnary(insideValuePath));
    }
    return filters.length === 1 ? filters[0]! : { kind: 'and', filters };
  }

  private parseUnary(insideValuePath: boolean): Filter {
    const token = this.next("an attribute path, 'not' or '('");
    if (token.kind === 'lparen') {
      return this.nested(token, () => {
        const inner = this.parseOr(insideValuePath);
        this.expectClosing(token, 'rparen');
        return inner;
      });
    }
    if (token.kind === 'word' && token.text.toLowerCase() === 'not') {
      const open = this.next("'(' after 'not'");
      if (open.kind !== 'lparen') throw this.unexpected(open, "'(' after 'not'");
      return this.nested(token, () => {
        const inner = this.parseOr(insideValuePath);
        this.expectClosing(open, 'rparen');
        return { kind: 'not', filter: inner };
      });
    }
    if (token.kind !== 'word') throw this.unexpected(token, "an attribute path, 'not' or '('");
    const path = this.attributePath(token);
    const operator = this.next(`a comparison operator after '${token.text}'`);
    if (operator.kind === 'lbracket') {
      if (insideValuePath) {
        throw this.error(`at ${operator.position}: a value filter cannot contain another value filter ('[' after '${token.text}')`);
      }
      return { kind: 'valuePath', path, filter: this.parseValuePathBody(path, operator) };
    }
    const op = operator.kind === 'word' ? operator.text.toLowerCase() : '';
    if (op === 'pr') {
      this.countComparison(token);
      return { kind: 'present', path };
    }
    if (!COMPARE_OPERATORS.has(op)) {
      throw this.unexpected(operator, `a comparison operator after '${token.text}'`);
    }
    this.countComparison(token);
    const value = this.compareValue(operator);
    return { kind: 'compare', path, op: op as CompareOperator, value };
  }

  /** After `attrPath[`: the value filter and its closing bracket. */
  private parseValuePathBody(path: AttributePath, open: Token): Filter {
    if (path.subAttribute !== undefined) {
      throw this.error(`at ${open.position}: a value filter applies to an attribute, not to the sub-attribute '${path.attribute}.${path.subAttribute}'`);
    }
    return this.nested(open, () => {
      const inner = this.parseOr(true);
      this.expectClosing(open, 'rbracket');
      return inner;
    });
  }

  /**
   * The comparison value (RFC 7644 §3.4.2.2 compValue: false / null / true / number / string).
   *
   * LENIENCY, in this one place: a bare word where a quoted string belongs is read as that string
   * (`name.familyName eq Employee`, which Microsoft's own SCIM reference tests send), and `true`/`false`/`null`
   * are recognised in any case (`True`, as Entra ID writes booleans).
   */
  private compareValue(operator: Token): FilterValue {
    const token = this.next(`a value after '${operator.text}'`);
    switch (token.kind) {
      case 'string':
        return decodeString(token);
      case 'number': {
        const value = Number(token.text);
        if (!Number.isFinite(value)) throw this.error(`at ${token.position}: the number ${token.text} is out of range`);
        return value;
      }
      case 'word': {
        const lower = token.text.toLowerCase();
        if (lower === 'true') return true;
        if (lower === 'false') return false;
        if (lower === 'null') return null;
        return token.text;
      }
      default:
        throw this.unexpected(token, `a value after '${operator.text}'`);
    }
  }

  /** Splits `[urn:...:]attribute[.subAttribute]` (RFC 7644 §3.10) and checks each name (RFC 7643 §2.1). */
  private attributePath(token: Token): AttributePath {
    const text = token.text;
    let uri: string | undefined;
    let rest = text;
    if (/^urn:/i.test(text)) {
      const lower = text.toLowerCase();
      // A known schema URN may itself contain dots ("2.0"); otherwise the attribute follows the last colon.
      const known = allSchemas().find((schema) => lower.startsWith(`${schema.id.toLowerCase()}:`));
      const cut = known ? known.id.length : text.lastIndexOf(':');
      uri = text.slice(0, cut);
      rest = text.slice(cut + 1);
      if (!URN_PREFIX.test(uri) || rest === '') {
        throw this.error(`at ${token.position}: expected an attribute after the schema URN in '${text}'`);
      }
    }
    const parts = rest.split('.');
    if (parts.length > 2 || !parts.every((part) => ATTRIBUTE_NAME.test(part))) {
      const expected = uri ? `'${uri}:attribute[.subAttribute]'` : 'an attribute path (attribute[.subAttribute])';
      throw this.error(`at ${token.position}: expected ${expected}, found '${text}'`);
    }
    const path: AttributePath = { attribute: parts[0]! };
    if (uri !== undefined) path.uri = uri;
    if (parts[1] !== undefined) path.subAttribute = parts[1];
    return path;
  }

  private nested<T>(token: Token, parse: () => T): T {
    this.depth += 1;
    if (this.depth > FILTER_LIMITS.maxDepth) {
      throw this.error(`at ${token.position}: the ${this.mode === 'filter' ? 'filter' : 'path'} nests deeper than ${FILTER_LIMITS.maxDepth} levels`);
    }
    const result = parse();
    this.depth -= 1;
    return result;
  }

  private countComparison(token: Token): void {
    this.comparisons += 1;
    if (this.comparisons > FILTER_LIMITS.maxComparisons) {
      throw this.error(`at ${token.position}: the ${this.mode === 'filter' ? 'filter' : 'path'} has more than ${FILTER_LIMITS.maxComparisons} comparisons`);
    }
  }

  private expectClosing(open: Token, kind: 'rparen' | 'rbracket'): void {
    const closing = kind === 'rparen' ? "')'" : "']'";
    const token = this.peek();
    if (!token) throw this.error(`at ${this.text.length + 1}: expected ${closing} to close the '${open.text}' at ${open.position}, found the end of the ${this.mode === 'filter' ? 'filter' : 'path'}`);
    if (token.kind !== kind) throw this.unexpected(token, `'and', 'or' or ${closing} to close the '${open.text}' at ${open.position}`);
    this.index += 1;
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private peekKeyword(keyword: 'and' | 'or'): boolean {
    const token = this.peek();
    return token !== undefined && token.kind === 'word' && token.text.toLowerCase() === keyword;
  }

  private next(expected: string): Token {
    const token = this.tokens[this.index];
    if (!token) {
      throw this.error(`at ${this.text.length + 1}: expected ${expected}, found the end of the ${this.mode === 'filter' ? 'filter' : 'path'}`);
    }
    this.index += 1;
    return token;
  }

  private unexpected(token: Token, expected: string): ScimError {
    return this.error(`at ${token.position}: expected ${expected}, found '${abbreviate(token.text)}'`);
  }

  private error(detail: string): ScimError {
    return this.mode === 'filter' ? ScimError.invalidFilter(detail) : ScimError.invalidPath(detail);
  }
}

/** Keeps error messages short when the offending token is long (it is echoed back to the client). */
function abbreviate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
