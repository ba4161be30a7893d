import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { directoryChangesTable } from './directory-changes.js';
import { groupMembersTable } from './group-members.js';
import { groupsTable } from './groups.js';
import { linkRebuildsTable } from './link-rebuilds.js';
import type { ColumnSpec, TableDeclaration } from './table.js';
import { userProviderLinksTable } from './user-provider-links.js';
import { usersTable } from './users.js';

// A directory column is spelled once outside the migrations (DESIGN.md, "one declaration per fact"): SQL written
// by hand takes its names from the model declarations (`${U.userName}`), so renaming a column is one edit in the
// model and one migration, and this test finds any source that still spells one by hand.
//
// What it looks for: a column name of a directory table (or the table's own name: group_members, ...), as a whole
// word, inside a string or template literal of a source file that is not a test, a migration or a model. Comments are not searched (a comment may name a column
// where that is the clearest place). Only snake_case names are searched: the one-word columns (id, seq, data,
// active, version, kind, position, at, detail, reason, processed, total) are ordinary words of SCIM and of the
// code (`active` is a SCIM attribute, `version` an ETag's, `data` a JSON field), so a hit would say nothing.
// Of the snake_case names, those that another table also has are left out: a word search cannot tell whose
// column a hit is (audit_events also has actor_type, resource_type, resource_id and request_id; most tables have
// created_at), and client_id is besides an OAuth 2.0 protocol parameter (RFC 6749 §2.3.1) that the token endpoint
// and the clients read and write on the wire. SQL about the directory tables takes those names from the
// declarations too; this test just cannot prove it for them.

const DIRECTORY_TABLES: readonly Declaration[] = [usersTable, groupsTable, groupMembersTable, userProviderLinksTable, directoryChangesTable, linkRebuildsTable];

type Declaration = TableDeclaration<Record<string, ColumnSpec>>;

/** Every table declaration in this folder (as the drift test finds them), the directory tables' included. */
async function allDeclarations(): Promise<Declaration[]> {
  const directory = new URL('./', import.meta.url);
  const files = fs.readdirSync(directory).filter((name) => /\.ts$/.test(name) && !/\.(test|d)\.ts$/.test(name) && name !== 'index.ts' && name !== 'table.ts');
  const found: Declaration[] = [];
  for (const file of files.sort()) {
    const exports = (await import(new URL(file, directory).href)) as Record<string, unknown>;
    for (const value of Object.values(exports)) {
      if (typeof value === 'object' && value !== null && 'specs' in value && 'table' in value) found.push(value as Declaration);
    }
  }
  return found;
}

async function searchedNames(): Promise<string[]> {
  const directoryTables = new Set(DIRECTORY_TABLES.map((table) => table.table));
  const elsewhere = new Set((await allDeclarations()).filter((table) => !directoryTables.has(table.table)).flatMap((table) => Object.values(table.columns)));
  const names = DIRECTORY_TABLES.flatMap((table) => [table.table, ...Object.values(table.columns)]);
  return [...new Set(names)].filter((name) => name.includes('_') && !elsewhere.has(name)).sort();
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const SOURCE_ROOTS = ['apps/*/src', 'packages/*/src', 'bench', 'examples/*/src'];

function expand(pattern: string): string[] {
  const [head, ...rest] = pattern.split('/');
  if (head === undefined) return [];
  const base = path.join(ROOT, head);
  if (rest[0] !== '*') return [path.join(ROOT, pattern)];
  return fs
    .readdirSync(base, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.join(base, entry.name, ...rest.slice(1)));
}

function isSearchedFile(file: string): boolean {
  const relative = path.relative(ROOT, file).split(path.sep).join('/');
  if (!/\.ts$/.test(relative) || /\.(test|d)\.ts$/.test(relative)) return false;
  if (/\/(test|migrations|models|node_modules|dist)\//.test(relative)) return false;
  // Generated from the gateway's OpenAPI document, which speaks in API names.
  if (relative.endsWith('openapi.gen.ts')) return false;
  return true;
}

function walk(directory: string): string[] {
  if (!fs.existsSync(directory)) return [];
  return fs.readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'dist' ? [] : walk(full);
    return isSearchedFile(full) ? [full] : [];
  });
}

export interface Literal {
  text: string;
  /** 1-based line where the literal (or the template part) starts. */
  line: number;
}

/**
 * The string and template literal texts of a TypeScript source (a template's `${...}` expressions are code, and
 * scanned as such). Comments are skipped. A `/` starts a regular expression literal where an expression may
 * start, which is all this needs: regular expressions are neither strings nor comments.
 */
export function literals(source: string): Literal[] {
  const found: Literal[] = [];
  let line = 1;
  let i = 0;
  // One entry per open `{`: true when that brace is a template's `${`, so its `}` resumes the template.
  const braces: boolean[] = [];
  let lastSignificant = '';

  const readQuoted = (quote: string): void => {
    const startLine = line;
    let text = '';
    i += 1;
    while (i < source.length && source[i] !== quote) {
      if (source[i] === '\\') {
        text += source.slice(i, i + 2);
        if (source[i + 1] === '\n') line += 1;
        i += 2;
        continue;
      }
      if (source[i] === '\n') line += 1;
      text += source[i];
      i += 1;
    }
    i += 1;
    found.push({ text, line: startLine });
  };

  // Reads template text from i (just after "`" or "}") up to "`" (the end) or "${" (an expression).
  const readTemplate = (): void => {
    const startLine = line;
    let text = '';
    while (i < source.length) {
      const c = source[i];
      if (c === '\\') {
        text += source.slice(i, i + 2);
        if (source[i + 1] === '\n') line += 1;
        i += 2;
        continue;
      }
      if (c === '`') {
        i += 1;
        break;
      }
      if (c === '$' && source[i + 1] === '{') {
        i += 2;
        braces.push(true);
        break;
      }
      if (c === '\n') line += 1;
      text += c;
      i += 1;
    }
    found.push({ text, line: startLine });
  };

  while (i < source.length) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === '\n') {
      line += 1;
      i += 1;
      continue;
    }
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === '/' && next === '/') {
      while (i < source.length && source[i] !== '\n') i += 1;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      for (let k = i; k < stop; k += 1) if (source[k] === '\n') line += 1;
      i = stop;
      continue;
    }
    if (c === "'" || c === '"') {
      readQuoted(c);
      lastSignificant = 'x';
      continue;
    }
    if (c === '`') {
      i += 1;
      readTemplate();
      lastSignificant = 'x';
      continue;
    }
    if (c === '/' && (lastSignificant === '' || /[(,=:[!&|?{};+\-*%<>~^]$/.test(lastSignificant) || /^(return|typeof|case|in|of)$/.test(lastSignificant))) {
      // A regular expression literal: skip it, classes included (a "/" inside [...] does not end it).
      i += 1;
      let inClass = false;
      while (i < source.length && source[i] !== '\n') {
        const r = source[i];
        if (r === '\\') {
          i += 2;
          continue;
        }
        if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i += 1;
      }
      i += 1;
      while (i < source.length && /[a-z]/i.test(source[i]!)) i += 1;
      lastSignificant = 'x';
      continue;
    }
    if (c === '{') {
      braces.push(false);
      lastSignificant = c;
      i += 1;
      continue;
    }
    if (c === '}') {
      i += 1;
      if (braces.pop() === true) {
        readTemplate();
        lastSignificant = 'x';
      } else {
        lastSignificant = '}';
      }
      continue;
    }
    if (/[A-Za-z0-9_$]/.test(c)) {
      let word = '';
      while (i < source.length && /[A-Za-z0-9_$]/.test(source[i]!)) word += source[i++];
      lastSignificant = word;
      continue;
    }
    lastSignificant = c;
    i += 1;
  }
  return found;
}

function findSpellings(searched: readonly string[]): string[] {
  const pattern = new RegExp(`(?<![A-Za-z0-9_])(${searched.join('|')})(?![A-Za-z0-9_])`, 'g');
  const files = SOURCE_ROOTS.flatMap(expand).flatMap(walk).sort();
  const problems: string[] = [];
  for (const file of files) {
    const relative = path.relative(ROOT, file).split(path.sep).join('/');
    for (const literal of literals(fs.readFileSync(file, 'utf8'))) {
      const lines = literal.text.split('\n');
      lines.forEach((text, offset) => {
        for (const match of text.matchAll(pattern)) problems.push(`${relative}:${literal.line + offset}: ${match[1]} in "${text.trim()}"`);
      });
    }
  }
  return problems;
}

describe('directory column names in source files', () => {
  it('reads strings and template texts but neither comments nor template expressions', () => {
    const source = [
      "const a = 'user_name'; // tx_id",
      '/* group_id */ const b = `SELECT ${U.userId} FROM x WHERE y = ${f(`inner`)} AND z`;',
      'const r = /it\'s/g; const c = "done";',
    ].join('\n');
    expect(literals(source)).toEqual([
      { text: 'user_name', line: 1 },
      { text: 'SELECT ', line: 2 },
      { text: ' FROM x WHERE y = ', line: 2 },
      { text: 'inner', line: 2 },
      { text: ' AND z', line: 2 },
      { text: 'done', line: 3 },
    ]);
  });

  it('searches the snake_case names of the directory tables that no other table has, the declarations deciding which', async () => {
    const searched = await searchedNames();
    expect(searched).toContain('user_name');
    expect(searched).toContain('group_members');
    expect(searched).not.toContain('client_id');
    expect(searched).not.toContain('resource_type');
    expect(searched).not.toContain('created_at');
  });

  it('finds none outside the models, the migrations and the tests: SQL takes them from the declarations', async () => {
    expect(findSpellings(await searchedNames())).toEqual([]);
  });
});
