/** Pairing profile request validation, usage sums, activation codes and pairing commands: domain logic, no ports. */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/api/errors.ts';
import { parseInput } from '../../../shared/api/validation.ts';
import { ACTIVATION_CODE_RANDOM_DIGITS, hashActivationCode, isExpired, newActivationCode, originIndexOf, pairingCommand } from '../../../shared/pairing/pairing-key.ts';
import { createPairingProfileSchema, keyExpiry, sumUsage, updatePairingProfileSchema } from '../../../shared/pairing/pairing-profile.ts';
import { ACTIVATION_CODE } from '../../../shared/ven/protocol.ts';

function problems(schema: typeof createPairingProfileSchema | typeof updatePairingProfileSchema, body: unknown) {
  try {
    parseInput(schema, body);
  } catch (err) {
    if (err instanceof ValidationError) return err.errors;
    throw err;
  }
  return [];
}

describe('pairing profile bodies', () => {
  it('needs only a name on create', () => {
    expect(parseInput(createPairingProfileSchema, { name: ' PP-WEB ' })).toEqual({ name: 'PP-WEB' });
    expect(problems(createPairingProfileSchema, {})).toEqual([{ token: 'required_property_missing', message: 'name is required' }]);
  });

  it.each([
    [1, 1],
    [2_147_483_647, 2_147_483_647],
    ['unlimited', 'unlimited'],
    // the Terraform provider sends strings, Illumio answers with them
    ['3600', 3600],
  ])('takes %j as allowed_uses_per_key and key_lifespan', (raw, parsed) => {
    expect(parseInput(createPairingProfileSchema, { name: 'p', allowed_uses_per_key: raw, key_lifespan: raw })).toMatchObject({ allowed_uses_per_key: parsed, key_lifespan: parsed });
  });

  it.each([0, -1, 1.5, 2_147_483_648, '0', 'forever', '', '1e3', null, true])('refuses %j as allowed_uses_per_key', (raw) => {
    const errors = problems(createPairingProfileSchema, { name: 'p', allowed_uses_per_key: raw });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/^allowed_uses_per_key: must be a number of uses from 1 to 2147483647 or "unlimited"$/);
  });

  it('reports one entry per bad field', () => {
    const errors = problems(createPairingProfileSchema, {
      name: '',
      enforcement_mode: 'enforced',
      visibility_level: 'all',
      key_lifespan: 0,
      role_label_lock: 'yes',
      labels: [{ href: '/orgs/1/workloads/7' }],
      colour: 'blue',
    });
    expect(errors.map((e) => e.message.split(':')[0])).toEqual(
      expect.arrayContaining(['name', 'enforcement_mode', 'visibility_level', 'key_lifespan', 'role_label_lock', 'labels[0].href', 'colour is not a recognised property']),
    );
    expect(errors).toHaveLength(7);
    expect(errors.find((e) => e.token === 'unexpected_property')?.message).toBe('colour is not a recognised property');
  });

  it('takes labels as clients read them ({href, key, value})', () => {
    expect(parseInput(createPairingProfileSchema, { name: 'p', labels: [{ href: '/orgs/1/labels/7', key: 'role', value: 'web' }] }).labels).toEqual([{ href: { orgId: 1, id: 7 } }]);
  });

  it('needs at least one field on update and no name of nothing', () => {
    expect(problems(updatePairingProfileSchema, {})).toEqual([{ token: 'input_validation_error', message: 'body: send at least one field of the pairing profile to change' }]);
    expect(parseInput(updatePairingProfileSchema, { enabled: false })).toEqual({ enabled: false });
    expect(problems(updatePairingProfileSchema, { name: '  ' })[0]?.message).toBe('name: must not be empty');
  });
});

describe('usage summed over the PCEs', () => {
  it('adds the counts and keeps the latest pairing', () => {
    const usage = sumUsage([
      { profileId: 1, region: 'us-east-1', uses: 3, lastPairingAt: 100 },
      { profileId: 1, region: 'eu-west-1', uses: 2, lastPairingAt: 250 },
      { profileId: 2, region: 'eu-west-1', uses: 1, lastPairingAt: null },
    ]);
    expect(usage.get(1)).toEqual({ totalUseCount: 5, lastPairingAt: 250 });
    expect(usage.get(2)).toEqual({ totalUseCount: 1, lastPairingAt: null });
    expect(usage.get(3)).toBeUndefined();
  });
});

describe('activation codes', () => {
  it('are 48 hex digits whose first two name the generating PCE', () => {
    for (const index of [0, 1, 7, 255]) {
      const code = newActivationCode(index);
      expect(code).toMatch(ACTIVATION_CODE);
      expect(code).toHaveLength(2 + ACTIVATION_CODE_RANDOM_DIGITS);
      expect(originIndexOf(code)).toBe(index);
    }
    expect(newActivationCode(1)).not.toBe(newActivationCode(1));
    expect(() => newActivationCode(256)).toThrow(RangeError);
  });

  it('is not an activation code when malformed', () => {
    expect(originIndexOf('01')).toBeNull();
    expect(originIndexOf('ZZ'.padEnd(48, '0'))).toBeNull();
    expect(originIndexOf('0A'.padEnd(48, '0'))).toBeNull();
  });

  it('is stored as its SHA-256', () => {
    expect(hashActivationCode('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('expires key_lifespan seconds after generation, unlimited never', () => {
    expect(keyExpiry('unlimited', 1_000)).toBeNull();
    expect(keyExpiry(60, 1_000)).toBe(61_000);
    expect(isExpired({ expiresAt: 61_000 }, 60_999)).toBe(false);
    expect(isExpired({ expiresAt: 61_000 }, 61_000)).toBe(true);
    expect(isExpired({ expiresAt: null }, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('go into the pairing command with the management server', () => {
    expect(pairingCommand({ fqdn: 'pce.sc.example.com', port: 443 }, 'ab12')).toBe('pair.sh --management-server pce.sc.example.com:443 --activation-code ab12');
  });
});
