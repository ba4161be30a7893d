import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './admins.js';
import { csrfTokenFor, verifyCsrfToken } from './admin-sessions.js';

describe('admin password hashing', () => {
  it('hashes with scrypt and a fresh salt per password, and verifies only the right password', async () => {
    const one = await hashPassword('correct horse battery');
    const two = await hashPassword('correct horse battery');
    expect(one).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{86}$/);
    expect(one).not.toBe(two);
    expect(await verifyPassword('correct horse battery', one)).toBe(true);
    expect(await verifyPassword('correct horse batterz', one)).toBe(false);
  });

  it('never matches a malformed or foreign hash', async () => {
    for (const stored of ['', 'scrypt$1$2$3', 'bcrypt$x$y$z$a$b', 'scrypt$4194304$8$1$AAAA$AAAA', 'scrypt$32768$8$1$AAAA$']) {
      expect(await verifyPassword('anything at all', stored)).toBe(false);
    }
  });
});

describe('CSRF token', () => {
  it('is derived from the session token, differs per session, and is checked exactly', () => {
    const a = 'a'.repeat(43);
    const b = 'b'.repeat(43);
    expect(csrfTokenFor(a)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(csrfTokenFor(a)).toBe(csrfTokenFor(a));
    expect(csrfTokenFor(a)).not.toBe(csrfTokenFor(b));
    expect(verifyCsrfToken(a, csrfTokenFor(a))).toBe(true);
    expect(verifyCsrfToken(a, csrfTokenFor(b))).toBe(false);
    expect(verifyCsrfToken(a, undefined)).toBe(false);
    expect(verifyCsrfToken(a, csrfTokenFor(a).slice(1))).toBe(false);
  });
});
