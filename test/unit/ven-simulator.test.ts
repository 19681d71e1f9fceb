/** The VEN simulator's pure parts (bench/lib): policy verification and delta application, the address plan, the arguments. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { appliedAtAfter, channelUrlFor, needsFetch } from '../../bench/lib/ven-client.ts';
import { applyPolicyAnswer, applyPolicyPush, haveOf, holds, ipSetHash, PolicyVerificationError, setsUsedBy, venRulesHash, type HeldPolicy, type PolicyPush } from '../../bench/lib/ven-policy.ts';
import { sourceAddressIn } from '../../bench/lib/ven-gslb.ts';
import { retryBackoffMs, jittered, MAX_VENS_PER_PCE, parseVenSimArgs, UsageError, venAddress } from '../../bench/lib/ven-sim-args.ts';
import { rulesHashOf } from '../../shared/policy/compiled.ts';
import type { PolicyResponseV1, VenIpSetV1, VenRulesV1 } from '../../shared/ven/protocol.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const set = (id: string, members: string[]): VenIpSetV1 => ({ id, members, hash: ipSetHash(members) });

function rules(port: number | null, sets = ['ls:a', 'ls:b']): VenRulesV1 {
  const services = port === null ? [{ proto: -1 }] : [{ proto: 6, port }];
  return {
    enforcement_mode: 'full',
    enforced: true,
    default_deny: true,
    inbound: [{ rule_id: 1, peers: sets[0] ?? 'ls:a', services }],
    outbound: [{ rule_id: 1, peers: sets[1] ?? 'ls:b', services }],
    ip_set_ids: [...new Set(sets)].sort(),
  };
}

function full(version: number, r: VenRulesV1, sets: VenIpSetV1[]): PolicyResponseV1 {
  return { policy_version: version, rules_hash: venRulesHash(r), rules: r, ip_sets: sets, removed_ip_sets: [] };
}

const A = set('ls:a', ['10.0.0.1-10.0.0.9']);
const B = set('ls:b', ['10.1.0.1', '10.1.0.3']);

function heldOf(version = 3, r = rules(443)): HeldPolicy {
  return applyPolicyAnswer(null, full(version, r, [A, B])).held;
}

describe('hashes', () => {
  it('rules_hash is the SHA-256 of JSON.stringify([enforcement_mode, inbound, outbound]) as sent', () => {
    const r = rules(443);
    expect(venRulesHash(r)).toBe(sha(JSON.stringify(['full', r.inbound, r.outbound])));
    // not over enforced / default_deny / ip_set_ids
    expect(venRulesHash({ ...r, enforced: false, ip_set_ids: [] } as VenRulesV1)).toBe(venRulesHash(r));
    expect(venRulesHash({ ...r, enforcement_mode: 'selective' })).not.toBe(venRulesHash(r));
  });

  it('is the PCE side\'s own function (rulesHashOf in shared/policy/compiled.ts)', () => {
    for (const r of [rules(443), rules(null), { ...rules(22), enforcement_mode: 'visibility_only', inbound: [], outbound: [] }]) expect(venRulesHash(r)).toBe(rulesHashOf(r));
  });

  it("an IP set's hash is the SHA-256 of its members joined by newlines", () => {
    expect(ipSetHash(['10.0.0.1', '10.0.0.3-10.0.0.9'])).toBe(sha('10.0.0.1\n10.0.0.3-10.0.0.9'));
    expect(ipSetHash([])).toBe(sha(''));
  });

  it('the sets a policy uses are ip_set_ids and every peers', () => {
    expect([...setsUsedBy(rules(1, ['ls:x', 'ls:y']))].sort()).toEqual(['ls:x', 'ls:y']);
  });
});

describe('applying a policy answer', () => {
  it('takes a full answer whose rules and sets verify', () => {
    const held = heldOf();
    expect(held.version).toBe(3);
    expect(held.rulesHash).toBe(venRulesHash(rules(443)));
    expect([...held.ipSets.keys()].sort()).toEqual(['ls:a', 'ls:b']);
  });

  it('refuses rules that do not hash to rules_hash, a set that does not hash to its hash, a set the rules use and nobody sent', () => {
    expect(() => applyPolicyAnswer(null, { ...full(3, rules(443), [A, B]), rules_hash: 'f'.repeat(64) })).toThrow(PolicyVerificationError);
    expect(() => applyPolicyAnswer(null, full(3, rules(443), [A, { ...B, members: ['10.9.9.9'] }]))).toThrow(/IP set ls:b/);
    expect(() => applyPolicyAnswer(null, full(3, rules(443), [A]))).toThrow(/ls:b/);
    // a rule's peers must be in ip_set_ids
    const r = { ...rules(443), ip_set_ids: ['ls:a'] };
    expect(() => applyPolicyAnswer(null, full(3, r, [A, B]))).toThrow(/not in ip_set_ids/);
  });

  it('a delta without rules keeps the held rules when rules_hash is the one held, and applies the changed sets', () => {
    const held = heldOf();
    const B2 = set('ls:b', ['10.1.0.1-10.1.0.4']);
    const { held: next, notes } = applyPolicyAnswer(held, { policy_version: 4, rules_hash: held.rulesHash, ip_sets: [B2], removed_ip_sets: [] });
    expect(notes).toEqual([]);
    expect(next.version).toBe(4);
    expect(next.rules).toBe(held.rules);
    expect(next.ipSets.get('ls:b')?.hash).toBe(B2.hash);
    expect(next.ipSets.get('ls:a')?.hash).toBe(A.hash);
  });

  it('a delta with new rules drops the removed sets and needs only the new ones', () => {
    const held = heldOf();
    const r = rules(8443, ['ls:a', 'ls:c']);
    const C = set('ls:c', ['192.168.0.1']);
    const { held: next, notes } = applyPolicyAnswer(held, { policy_version: 5, rules_hash: venRulesHash(r), rules: r, ip_sets: [C], removed_ip_sets: ['ls:b'] });
    expect(notes).toEqual([]);
    expect([...next.ipSets.keys()].sort()).toEqual(['ls:a', 'ls:c']);
  });

  it('notes (without refusing) a delta that forgets to remove an unused set or resends a held one', () => {
    const held = heldOf();
    const r = rules(8443, ['ls:a', 'ls:a']);
    const { held: next, notes } = applyPolicyAnswer(held, { policy_version: 5, rules_hash: venRulesHash(r), rules: r, ip_sets: [A], removed_ip_sets: [] });
    expect([...next.ipSets.keys()]).toEqual(['ls:a']);
    expect(notes.join('\n')).toMatch(/ls:b is no longer used/);
    expect(notes.join('\n')).toMatch(/held with the same hash/);
  });

  it('refuses a delta without rules when the VEN does not hold rules_hash', () => {
    expect(() => applyPolicyAnswer(heldOf(), { policy_version: 4, rules_hash: venRulesHash(rules(1)), ip_sets: [], removed_ip_sets: [] })).toThrow(/has no rules/);
    expect(() => applyPolicyAnswer(null, { policy_version: 4, rules_hash: venRulesHash(rules(1)), ip_sets: [], removed_ip_sets: [] })).toThrow(PolicyVerificationError);
  });

  it('`have` lists the held rules hash and every held set with its hash', () => {
    expect(haveOf(null)).toBeUndefined();
    const held = heldOf();
    expect(haveOf(held)).toEqual({ rules_hash: held.rulesHash, ip_sets: { 'ls:a': A.hash, 'ls:b': B.hash } });
  });
});

describe('applying a policy push', () => {
  const push = (version: number, r: VenRulesV1 | null, sets?: VenIpSetV1[], hash = venRulesHash(r ?? rules(443))): PolicyPush => ({
    v: 1,
    type: 'policy',
    policy_version: version,
    rules_hash: hash,
    ...(r ? { rules: r } : {}),
    ...(sets ? { ip_sets: sets } : {}),
  });

  it('applies at once a push with rules whose sets are held', () => {
    const out = applyPolicyPush(heldOf(), push(4, rules(80)));
    expect(out.kind).toBe('applied');
    if (out.kind === 'applied') expect(out.held.rulesHash).toBe(venRulesHash(rules(80)));
  });

  it('applies at once a push without rules when the VEN holds rules_hash (new set contents)', () => {
    const held = heldOf();
    const A2 = set('ls:a', ['10.0.0.1-10.0.0.10']);
    const out = applyPolicyPush(held, push(3, null, [A2], held.rulesHash));
    expect(out.kind).toBe('applied');
    if (out.kind === 'applied') expect(out.held.ipSets.get('ls:a')?.members).toEqual(['10.0.0.1-10.0.0.10']);
  });

  it('asks for a fetch when the push lacks the rules or a set, or the VEN holds nothing', () => {
    expect(applyPolicyPush(heldOf(), push(4, null, undefined, venRulesHash(rules(1)))).kind).toBe('fetch');
    expect(applyPolicyPush(heldOf(), push(4, rules(1, ['ls:a', 'ls:new']))).kind).toBe('fetch');
    expect(applyPolicyPush(heldOf(), push(4, rules(1, ['ls:a', 'ls:new']), [set('ls:new', ['1.2.3.4'])])).kind).toBe('applied');
    expect(applyPolicyPush(null, push(4, null)).kind).toBe('fetch');
  });

  it('ignores a push older than what is held, and refuses one whose rules or sets do not verify', () => {
    expect(applyPolicyPush(heldOf(5), push(4, rules(1))).kind).toBe('stale');
    expect(() => applyPolicyPush(heldOf(), push(4, rules(1), undefined, 'a'.repeat(64)))).toThrow(PolicyVerificationError);
    expect(() => applyPolicyPush(heldOf(), push(4, rules(1), [{ ...A, hash: 'b'.repeat(64) }]))).toThrow(PolicyVerificationError);
  });
});

describe('the applied_at a VEN reports', () => {
  it('moves when the VEN applies another version or other rules, not for new set contents under the same ones', () => {
    const held = heldOf(3);
    const A2 = set('ls:a', ['10.0.0.1-10.0.0.10']);
    const pushed = applyPolicyPush(held, { v: 1, type: 'policy', policy_version: 3, rules_hash: held.rulesHash, ip_sets: [A2] });
    if (pushed.kind !== 'applied') throw new Error(pushed.kind);
    expect(appliedAtAfter(held, pushed.held, 1_000, 2_000)).toBe(1_000);
    expect(appliedAtAfter(held, heldOf(4), 1_000, 2_000)).toBe(2_000);
    expect(appliedAtAfter(held, heldOf(3, rules(80)), 1_000, 2_000)).toBe(2_000);
    // the first policy, and a VEN that never reported one
    expect(appliedAtAfter(null, held, null, 2_000)).toBe(2_000);
    expect(appliedAtAfter(held, held, null, 2_000)).toBe(2_000);
  });
});

describe('what the VEN should hold', () => {
  it('fetches when the PCE names a newer version or another rules hash at the same version, not for an older answer', () => {
    const held = heldOf(3);
    expect(needsFetch(held, { policyVersion: 3, rulesHash: held.rulesHash })).toBe(false);
    expect(needsFetch(held, { policyVersion: 4, rulesHash: held.rulesHash })).toBe(true);
    expect(needsFetch(held, { policyVersion: 3, rulesHash: 'c'.repeat(64) })).toBe(true);
    expect(needsFetch(held, { policyVersion: 2, rulesHash: 'c'.repeat(64) })).toBe(false);
    // nothing computed yet: only a VEN with nothing keeps asking
    expect(needsFetch(null, { policyVersion: null, rulesHash: null })).toBe(true);
    expect(needsFetch(held, { policyVersion: null, rulesHash: null })).toBe(false);
    expect(holds(held, { policyVersion: 3, rulesHash: held.rulesHash })).toBe(true);
    expect(holds(held, { policyVersion: null, rulesHash: null })).toBe(false);
  });
});

describe('the address plan', () => {
  it('gives every VEN of every PCE its own address, consecutive VENs adjacent', () => {
    const seen = new Set<string>();
    for (const pce of [0, 1, 2]) for (let i = 0; i < MAX_VENS_PER_PCE; i += 97) seen.add(venAddress(pce, i));
    const count = 3 * Math.ceil(MAX_VENS_PER_PCE / 97);
    expect(seen.size).toBe(count);
    expect(venAddress(0, 0)).toBe('10.0.0.1');
    expect(venAddress(0, 253)).toBe('10.0.0.254');
    expect(venAddress(0, 254)).toBe('10.0.1.1');
    expect(venAddress(2, 4999)).toBe('10.2.19.174');
    expect(venAddress(1, 0, 100)).toBe('10.101.0.1');
    expect(venAddress(0, MAX_VENS_PER_PCE - 1)).toBe('10.0.255.254');
  });

  it('refuses what it cannot hold', () => {
    expect(() => venAddress(0, MAX_VENS_PER_PCE)).toThrow(RangeError);
    expect(() => venAddress(0, -1)).toThrow(RangeError);
    expect(() => venAddress(200, 0, 100)).toThrow(RangeError);
  });

  it('backs retries off exponentially with full jitter up to the cap, never sooner than Retry-After', () => {
    expect(retryBackoffMs(0, undefined, () => 1)).toBe(1_000);
    expect(retryBackoffMs(3, undefined, () => 1)).toBe(8_000);
    expect(retryBackoffMs(10, undefined, () => 1)).toBe(30_000);
    expect(retryBackoffMs(10, undefined, () => 1, 60_000)).toBe(60_000);
    expect(retryBackoffMs(10, undefined, () => 0)).toBe(100);
    expect(retryBackoffMs(0, '7', () => 0)).toBe(7_000);
    expect(retryBackoffMs(0, ['2'], () => 0.5)).toBe(2_200);
    // the backoff wins over a short Retry-After once failures pile up (a throttled storm spreads out)
    expect(retryBackoffMs(5, '1', () => 0.5, 60_000)).toBe(16_000);
  });

  it('jitters heartbeats by ±10 %', () => {
    expect(jittered(10_000, () => 0)).toBe(9_000);
    expect(jittered(10_000, () => 0.999999)).toBe(11_000);
    expect(jittered(0, () => 0.5)).toBe(1);
  });
});

describe('the channel URL of a PCE the VEN never paired with', () => {
  it('is the one its activations gave, else derived from a known pair', () => {
    expect(channelUrlFor({ url: 'http://127.0.0.12:8443', pushUrl: 'ws://x/live' }, null)).toBe('ws://x/live');
    expect(channelUrlFor({ url: 'http://127.0.0.12:8443', pushUrl: null }, { url: 'http://127.0.0.11:8443', pushUrl: 'ws://127.0.0.11:8444/live' })).toBe('ws://127.0.0.12:8444/live');
    expect(channelUrlFor({ url: 'http://127.0.0.12:8443', pushUrl: null }, null)).toBeNull();
  });
});

describe('arguments', () => {
  it('takes the documented flags', () => {
    const o = parseVenSimArgs(['--per-region', '5', '--provision', '--hold', '30', '--json', '--state', '/tmp/s.json', '--no-goodbye']);
    expect(o).toMatchObject({ perRegion: 5, provision: true, holdSeconds: 30, json: true, state: '/tmp/s.json', goodbye: false, storm: 0, concurrency: 64, timeoutSeconds: null, heartbeatIntervalSeconds: null, flowsEvery: 5 });
    expect(parseVenSimArgs(['--per-region', '0', '--storm', '2000'])).toMatchObject({ perRegion: 0, storm: 2000, goodbye: true, state: '.local/supercluster.json' });
    expect(parseVenSimArgs(['--help']).help).toBe(true);
    expect(parseVenSimArgs(['--per-region', '1', '--provision', '--provisions', '3']).provisions).toBe(3);
  });

  it.each([
    [['--per-region=-1'], /--per-region must be an integer/],
    [['--per-region', '1.5'], /--per-region must be an integer/],
    [['--per-region', 'ten'], /--per-region must be an integer/],
    [['--per-region', String(MAX_VENS_PER_PCE + 1)], /--per-region/],
    [[], /--per-region is required/],
    [['--per-region', '0'], /nothing to do/],
    [['--per-region', '0', '--storm', '5', '--provision'], /--provision needs VENs/],
    [['--per-region', '5', '--storm-pce', 'pce-eu.example.com'], /--storm-pce needs --storm/],
    [['--per-region', '5', '--provisions', '3'], /--provisions needs --provision/],
    [['--per-region', '5', '--provision', '--provisions', '0'], /--provisions/],
    [['--per-region', '5', '--hold', 'soon'], /--hold must be a number of seconds/],
    [['--per-region', '5', '--concurrency', '0'], /--concurrency/],
    [['--per-region', '5', '--heartbeat-interval', '0'], /--heartbeat-interval/],
    [['--per-region', '5', '--bogus'], /bogus/],
    [['--per-region', '0', '--storm', '5', '--failover', 'eu-west-1'], /--failover needs VENs/],
    [['--per-region', '5', '--failover', ' '], /--failover needs a PCE/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseVenSimArgs(argv)).toThrow(UsageError);
    expect(() => parseVenSimArgs(argv)).toThrow(message);
  });
});

describe('the simulator and the local GSLB', () => {
  it('queries from an address inside its client subnet, and takes --failover with --config for pce-ctl', () => {
    expect(sourceAddressIn('127.2.0.0/16')).toBe('127.2.0.2');
    expect(() => sourceAddressIn('not-a-subnet')).toThrow(/not an IPv4 subnet/);
    expect(parseVenSimArgs(['--per-region', '5', '--failover', 'eu-west-1', '--config', 'c.json'])).toMatchObject({ failover: 'eu-west-1', config: 'c.json' });
    expect(parseVenSimArgs(['--per-region', '5'])).toMatchObject({ failover: null, config: null });
  });
});
