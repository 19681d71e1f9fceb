import { describe, expect, it } from 'vitest';
import { generatePassword, hashPassword, passwordProblem, SCRYPT_PARAMS, verifyPassword } from '../../../shared/auth/passwords.ts';

// a cheap cost for the tests' speed; the stored form carries its own parameters
const FAST = { N: 1024, r: 8, p: 1 };

describe('console passwords (scrypt)', () => {
  it('stores scrypt with its parameters and a random salt, never the password', async () => {
    const a = await hashPassword('correct horse battery', FAST);
    const b = await hashPassword('correct horse battery', FAST);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
  });

  it('verifies the right password only', async () => {
    const stored = await hashPassword('correct horse battery', FAST);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('refuses malformed or absurd stored hashes instead of throwing', async () => {
    for (const bad of ['', 'plain', 'scrypt$1$8$1$c2FsdA==$aGFzaA==', 'scrypt$1073741824$8$1$c2FsdA==$' + 'A'.repeat(44), 'bcrypt$10$x$y$z$w']) expect(await verifyPassword('x', bad)).toBe(false);
  });

  it('uses a slow default cost', () => {
    expect(SCRYPT_PARAMS.N).toBeGreaterThanOrEqual(2 ** 15);
  });

  it('accepts 12 to 1,024 characters; generated passwords qualify', () => {
    expect(passwordProblem('short')).toMatch(/at least 12/);
    expect(passwordProblem('x'.repeat(1025))).toMatch(/at most/);
    expect(passwordProblem('twelve chars')).toBeNull();
    expect(passwordProblem(generatePassword())).toBeNull();
  });
});
