/** PairingProfileService and PairingService with small fakes of the ports (several PCEs, one key replica each). */
import { beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, NotLeaderError, ValidationError } from '../../../shared/api/errors.ts';
import {
  PairingKeyExpiredError,
  PairingKeyOriginUnreachableError,
  PairingKeyUnknownError,
  PairingKeyUsedUpError,
  PairingProfileDisabledError,
} from '../../../shared/pairing/errors.ts';
import { hashActivationCode } from '../../../shared/pairing/pairing-key.ts';
import { PairingProfileService } from '../../../shared/pairing/pairing-profile-service.ts';
import { ORIGIN_UNREACHABLE_RETRY_AFTER_SECONDS, PairingService } from '../../../shared/pairing/pairing-service.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import { testConfig } from '../../helpers/config.ts';
import { FakeLabelStore, FakeLeaderStore } from '../../helpers/fakes.ts';
import { FakeKeyReplicas, FakePairingProfileStore, FakePairingUses } from '../../helpers/pairing-fakes.ts';

const config = testConfig();
const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-1';
const actor = { orgId: 1, userId: 9 };
const T0 = 1_700_000_000_000;

describe('pairing', () => {
  let leaderStore: FakeLeaderStore;
  let labels: FakeLabelStore;
  let profileStore: FakePairingProfileStore;
  let uses: FakePairingUses;
  let replicas: FakeKeyReplicas;
  let clock: number;
  const profilesOn = (region: string) =>
    new PairingProfileService({ profiles: profileStore, uses: uses.store(region), labels, leader: new LeaderView(leaderStore, region, 0), now: () => clock });
  const pairingOn = (region: string, options: { superclusterFqdn?: string | null; port?: number; onUseNotRecorded?: (e: unknown) => void } = {}) =>
    new PairingService({
      pces: config.pces,
      region,
      managementServer: { superclusterFqdn: options.superclusterFqdn === undefined ? config.supercluster_fqdn : options.superclusterFqdn, port: options.port ?? 443 },
      profiles: profileStore,
      keys: replicas.store(region),
      uses: uses.store(region),
      now: () => clock,
      onUseNotRecorded: options.onUseNotRecorded,
    });

  beforeEach(() => {
    leaderStore = new FakeLeaderStore({ leaderRegion: US, leaderFqdn: 'pce-us.sc.example.com', epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    labels = new FakeLabelStore(leaderStore);
    profileStore = new FakePairingProfileStore(leaderStore);
    uses = new FakePairingUses();
    replicas = new FakeKeyReplicas([US, EU, AP]);
    clock = T0;
  });

  const idOf = (json: { href: string }) => Number(json.href.split('/').pop());
  const newProfile = async (body: Record<string, unknown> = {}) => idOf(await profilesOn(US).create(actor, { name: 'PP', ...body }));

  describe('profiles', () => {
    it('are created on the leader with Illumio defaults', async () => {
      const json = await profilesOn(US).create(actor, { name: 'PP-WEB' });
      expect(json).toMatchObject({
        href: `/orgs/1/pairing_profiles/${idOf(json)}`,
        name: 'PP-WEB',
        description: '',
        enabled: true,
        enforcement_mode: 'visibility_only',
        visibility_level: 'flow_summary',
        allowed_uses_per_key: 'unlimited',
        key_lifespan: 'unlimited',
        labels: [],
        total_use_count: 0,
        last_pairing_at: null,
        enforcement_mode_lock: true,
        visibility_level_lock: true,
        role_label_lock: true,
        app_label_lock: true,
        env_label_lock: true,
        loc_label_lock: true,
        external_data_set: null,
        external_data_reference: null,
        created_at: new Date(T0).toISOString(),
        created_by: { href: '/users/9' },
      });
    });

    it('are not written on a member (403 naming the leader)', async () => {
      await expect(profilesOn(EU).create(actor, { name: 'PP' })).rejects.toBeInstanceOf(NotLeaderError);
      expect(profileStore.writes).toBe(0);
    });

    it('must name existing labels, one per key, and write nothing otherwise', async () => {
      const web = await labels.create({ orgId: 1, key: 'role', value: 'web', externalDataSet: null, externalDataReference: null, userId: 1, now: 0 }, { region: US, epoch: 1 });
      const db = await labels.create({ orgId: 1, key: 'role', value: 'db', externalDataSet: null, externalDataReference: null, userId: 1, now: 0 }, { region: US, epoch: 1 });
      const err = await profilesOn(US)
        .create(actor, { name: 'PP', labels: [{ href: `/orgs/1/labels/${web.id}` }, { href: '/orgs/1/labels/999' }, { href: `/orgs/1/labels/${db.id}` }, { href: `/orgs/2/labels/${web.id}` }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).errors.map((e) => e.token)).toEqual(['label_not_found', 'duplicate_label_key', 'label_not_found']);
      expect(profileStore.writes).toBe(0);
      const json = await profilesOn(US).create(actor, { name: 'PP', labels: [{ href: `/orgs/1/labels/${web.id}`, key: 'role', value: 'web' }] });
      expect(json.labels).toEqual([{ href: `/orgs/1/labels/${web.id}`, key: 'role', value: 'web' }]);
    });

    it('are updated partially and listed with filters', async () => {
      const id = await newProfile({ name: 'PP-WEB', external_data_set: 'tf' });
      await newProfile({ name: 'PP-DB' });
      clock += 5;
      await profilesOn(US).update(actor, id, { enabled: false, key_lifespan: '60', role_label_lock: false });
      const json = await profilesOn(EU).getJson(1, id);
      expect(json).toMatchObject({ name: 'PP-WEB', enabled: false, key_lifespan: 60, allowed_uses_per_key: 'unlimited', role_label_lock: false, app_label_lock: true, external_data_set: 'tf' });
      expect(json.updated_at).toBe(new Date(T0 + 5).toISOString());
      const service = profilesOn(EU);
      expect((await service.list(1, { name: 'web' }, 500)).items.map((p) => p.name)).toEqual(['PP-WEB']);
      expect((await service.list(1, { externalDataSet: 'tf' }, 500)).total).toBe(1);
      expect(await service.list(1, {}, 0)).toEqual({ items: [], total: 2 });
    });

    it('are deleted on the leader; then unknown', async () => {
      const id = await newProfile();
      await expect(profilesOn(EU).delete(actor, id)).rejects.toBeInstanceOf(NotLeaderError);
      await profilesOn(US).delete(actor, id);
      await expect(profilesOn(US).getJson(1, id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(profilesOn(US).delete(actor, id)).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('keys', () => {
    it('are generated on any PCE, stored hashed in its region with expiry and uses', async () => {
      const id = await newProfile({ allowed_uses_per_key: 2, key_lifespan: 3600 });
      replicas.replicate = false;
      const key = await pairingOn(EU).generateKey(actor, id, {});
      expect(key.activationCode.slice(0, 2)).toBe('01');
      expect(key.pairingCommand).toBe(`pair.sh --management-server pce.sc.example.com:443 --activation-code ${key.activationCode}`);
      const stored = replicas.read(EU, hashActivationCode(key.activationCode));
      expect(stored).toEqual({ codeHash: hashActivationCode(key.activationCode), orgId: 1, profileId: id, originRegion: EU, createdAt: T0, createdBy: 9, expiresAt: T0 + 3_600_000, allowedUses: 2, remainingUses: 2 });
      expect(replicas.read(US, hashActivationCode(key.activationCode))).toBeNull();
      expect(JSON.stringify([...replicas.replicas.values()].map((m) => [...m.values()]))).not.toContain(key.activationCode);
    });

    it("name the generating PCE's FQDN and the service's port when no supercluster FQDN is configured", async () => {
      const id = await newProfile();
      const key = await pairingOn(AP, { superclusterFqdn: null, port: 8443 }).generateKey(actor, id, {});
      expect(key.pairingCommand).toBe(`pair.sh --management-server pce-ap.sc.example.com:8443 --activation-code ${key.activationCode}`);
      expect(key.activationCode.slice(0, 2)).toBe('02');
    });

    it('are not generated from a disabled or unknown profile, nor with a body other than {}', async () => {
      const id = await newProfile({ enabled: false });
      await expect(pairingOn(EU).generateKey(actor, id, {})).rejects.toBeInstanceOf(PairingProfileDisabledError);
      await expect(pairingOn(EU).generateKey(actor, 404, {})).rejects.toBeInstanceOf(NotFoundError);
      await expect(pairingOn(EU).generateKey(actor, id, { count: 2 })).rejects.toBeInstanceOf(ValidationError);
      expect(replicas.replicas.get(EU)?.size).toBe(0);
    });
  });

  describe('redeem', () => {
    it("gives the profile's settings and counts the pairing on the PCE that paired", async () => {
      const web = await labels.create({ orgId: 1, key: 'role', value: 'web', externalDataSet: null, externalDataReference: null, userId: 1, now: 0 }, { region: US, epoch: 1 });
      const id = await newProfile({ name: 'PP-WEB', enforcement_mode: 'full', visibility_level: 'flow_drops', labels: [{ href: `/orgs/1/labels/${web.id}` }] });
      const { activationCode } = await pairingOn(EU).generateKey(actor, id, {});
      clock += 1_000;
      const redeemed = await pairingOn(AP).redeem({ activationCode, now: clock });
      expect(redeemed).toEqual({ orgId: 1, originRegion: EU, profile: { id, name: 'PP-WEB', labels: [web.id], enforcementMode: 'full', visibilityLevel: 'flow_drops', logTraffic: false } });
      await pairingOn(US).redeem({ activationCode, now: clock + 1 });
      expect(await profilesOn(US).getJson(1, id)).toMatchObject({ total_use_count: 2, last_pairing_at: new Date(clock + 1).toISOString() });
      expect([...uses.records.values()].map((r) => [r.region, r.uses]).sort()).toEqual([[AP, 1], [US, 1]]);
    });

    it('lets a one-use key pair one VEN only, whichever PCEs race with it', async () => {
      const id = await newProfile({ allowed_uses_per_key: 1 });
      const { activationCode } = await pairingOn(EU).generateKey(actor, id, {});
      const results = await Promise.allSettled([US, EU, AP].map((r) => pairingOn(r).redeem({ activationCode, now: clock })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(refused).toHaveLength(2);
      for (const reason of refused) expect(reason).toBeInstanceOf(PairingKeyUsedUpError);
      // every consume went to the origin region
      expect([...replicas.consumes.keys()]).toEqual([EU]);
    });

    it('counts down allowed_uses_per_key, and unlimited keys never run out', async () => {
      const three = await newProfile({ allowed_uses_per_key: 3 });
      const unlimited = await newProfile({ allowed_uses_per_key: 'unlimited' });
      const limited = (await pairingOn(US).generateKey(actor, three, {})).activationCode;
      const forever = (await pairingOn(US).generateKey(actor, unlimited, {})).activationCode;
      for (let i = 0; i < 3; i++) await pairingOn(EU).redeem({ activationCode: limited, now: clock });
      await expect(pairingOn(EU).redeem({ activationCode: limited, now: clock })).rejects.toThrow(PairingKeyUsedUpError);
      for (let i = 0; i < 50; i++) await pairingOn(AP).redeem({ activationCode: forever, now: clock });
      expect(await profilesOn(US).getJson(1, unlimited)).toMatchObject({ total_use_count: 50 });
    });

    it('refuses a key after its lifespan, whether or not the replica saw it', async () => {
      const id = await newProfile({ key_lifespan: 60, allowed_uses_per_key: 5 });
      const { activationCode } = await pairingOn(US).generateKey(actor, id, {});
      await pairingOn(EU).redeem({ activationCode, now: T0 + 59_999 });
      const err = await pairingOn(EU).redeem({ activationCode, now: T0 + 60_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PairingKeyExpiredError);
      expect((err as PairingKeyExpiredError).expiredAt).toBe(T0 + 60_000);
    });

    it('refuses unknown and malformed codes, and keys of a deleted or disabled profile', async () => {
      const id = await newProfile();
      const { activationCode } = await pairingOn(US).generateKey(actor, id, {});
      await expect(pairingOn(US).redeem({ activationCode: `00${'0'.repeat(46)}`, now: clock })).rejects.toBeInstanceOf(PairingKeyUnknownError);
      await expect(pairingOn(US).redeem({ activationCode: `ff${'0'.repeat(46)}`, now: clock })).rejects.toBeInstanceOf(PairingKeyUnknownError);
      await expect(pairingOn(US).redeem({ activationCode: 'not a code', now: clock })).rejects.toBeInstanceOf(PairingKeyUnknownError);
      await profilesOn(US).update(actor, id, { enabled: false });
      await expect(pairingOn(EU).redeem({ activationCode, now: clock })).rejects.toBeInstanceOf(PairingProfileDisabledError);
      await profilesOn(US).delete(actor, id);
      await expect(pairingOn(EU).redeem({ activationCode, now: clock })).rejects.toBeInstanceOf(PairingKeyUnknownError);
      expect(uses.records.size).toBe(0);
    });

    it('reads a key that has not replicated yet from its origin', async () => {
      const id = await newProfile({ allowed_uses_per_key: 1 });
      replicas.replicate = false;
      const { activationCode } = await pairingOn(EU).generateKey(actor, id, {});
      await expect(pairingOn(US).redeem({ activationCode, now: clock })).resolves.toMatchObject({ originRegion: EU });
      await expect(pairingOn(AP).redeem({ activationCode, now: clock })).rejects.toBeInstanceOf(PairingKeyUsedUpError);
    });

    it('answers "retry later" when the origin of a limited key cannot be reached, and pairs with own keys meanwhile', async () => {
      const id = await newProfile({ allowed_uses_per_key: 1 });
      const remote = (await pairingOn(EU).generateKey(actor, id, {})).activationCode;
      const own = (await pairingOn(AP).generateKey(actor, id, {})).activationCode;
      replicas.unreachable.add(AP); // the member in ap-southeast-1 is cut off from every other region
      const err = await pairingOn(AP).redeem({ activationCode: remote, now: clock }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PairingKeyOriginUnreachableError);
      expect(err).toMatchObject({ originRegion: EU, originFqdn: 'pce-eu.sc.example.com', retryAfterSeconds: ORIGIN_UNREACHABLE_RETRY_AFTER_SECONDS });
      expect((err as Error).message).not.toContain(remote);
      await expect(pairingOn(AP).redeem({ activationCode: own, now: clock })).resolves.toMatchObject({ originRegion: AP });
      // nothing was consumed of the remote key: it still pairs once the regions reach each other
      replicas.unreachable.clear();
      await expect(pairingOn(AP).redeem({ activationCode: remote, now: clock })).resolves.toMatchObject({ originRegion: EU });
    });

    it('redeems a replicated unlimited key without its origin', async () => {
      const id = await newProfile({ allowed_uses_per_key: 'unlimited', key_lifespan: 60 });
      const { activationCode } = await pairingOn(EU).generateKey(actor, id, {});
      replicas.unreachable.add(EU);
      await expect(pairingOn(US).redeem({ activationCode, now: clock })).resolves.toMatchObject({ originRegion: EU });
      await expect(pairingOn(US).redeem({ activationCode, now: T0 + 60_000 })).rejects.toBeInstanceOf(PairingKeyExpiredError);
      expect(replicas.consumes.size).toBe(0);
    });

    it('still pairs when the use counter cannot be written, and says so', async () => {
      const id = await newProfile();
      const { activationCode } = await pairingOn(US).generateKey(actor, id, {});
      uses.failWith = new Error('throttled');
      const seen: unknown[] = [];
      await expect(pairingOn(US, { onUseNotRecorded: (e) => seen.push(e) }).redeem({ activationCode, now: clock })).resolves.toMatchObject({ orgId: 1 });
      expect(seen).toEqual([uses.failWith]);
    });
  });
});
