/** Label-group writes: nesting caps (406), creation reading only what the new group names, names unique through their claims. */
import { beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/api/errors.ts';
import { LabelService } from '../../../shared/labels/label-service.ts';
import { MAX_LABEL_GROUP_DEPTH, MAX_NESTED_LABEL_GROUPS } from '../../../shared/policy/objects/label-group-graph.ts';
import type { PolicyObjectService } from '../../../shared/policy/objects/policy-object-service.ts';
import { LeaderView } from '../../../shared/supercluster/leader.ts';
import { FakeLabelStore, FakeLeaderStore } from '../../helpers/fakes.ts';
import { FakePolicyStore, fakePolicyApi } from '../../helpers/policy-fakes.ts';

const actor = { userId: 1, orgId: 1 };
const ref = (id: number) => ({ href: `/orgs/1/sec_policy/draft/label_groups/${id}` });

async function refusal(p: Promise<unknown>): Promise<{ token: string; message: string }[]> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).errors.map((e) => ({ token: e.token, message: e.message }));
}

describe('label-group writes (fakes)', () => {
  let store: FakePolicyStore;
  let objects: PolicyObjectService;
  let appLabel: string;

  beforeEach(async () => {
    const leaderStore = new FakeLeaderStore({ leaderRegion: 'us-east-1', leaderFqdn: 'pce-us', epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    const leader = new LeaderView(leaderStore, 'us-east-1', 0);
    const labels = new FakeLabelStore(leaderStore);
    store = new FakePolicyStore(leaderStore);
    objects = fakePolicyApi(leader, store, labels).objects;
    const label = await new LabelService({ labels, leader }).create(actor, { key: 'app', value: 'web' });
    appLabel = `/orgs/1/labels/${label.id}`;
  });

  const group = async (name: string, subGroups: number[] = []) => (await objects.create(actor, 'label_groups', { name, key: 'app', labels: [{ href: appLabel }], sub_groups: subGroups.map(ref) })).object.id;

  /** a chain of `n` groups, each containing the one before; returns the top */
  async function chain(n: number): Promise<number> {
    let top = await group('chain-1');
    for (let i = 2; i <= n; i++) top = await group(`chain-${i}`, [top]);
    return top;
  }

  it(`refuses a group nesting more than ${MAX_LABEL_GROUP_DEPTH} levels with 406 label_group_too_deep, on create and on update`, async () => {
    const top = await chain(MAX_LABEL_GROUP_DEPTH);
    const before = (await store.loadDraft(1)).objects.label_groups.length;
    const entries = await refusal(objects.create(actor, 'label_groups', { name: 'one-too-many', key: 'app', sub_groups: [ref(top)] }));
    expect(entries.map((e) => e.token)).toEqual(['label_group_too_deep']);
    expect(entries[0]?.message).toContain(`${MAX_LABEL_GROUP_DEPTH + 1} levels`);
    expect((await store.loadDraft(1)).objects.label_groups.length).toBe(before);
    // the bottom of the chain gaining a sub-group deepens every group above it
    const leaf = await group('leaf');
    const bottom = (await store.loadDraft(1)).objects.label_groups.find((g) => g.name === 'chain-1')?.id ?? 0;
    const update = await refusal(objects.update(actor, 'label_groups', bottom, { sub_groups: [ref(leaf)] }));
    expect(update.map((e) => e.token)).toEqual(['label_group_too_deep']);
    expect(update[0]?.message).toContain('which contains this group');
  });

  it(`refuses a group containing more than ${MAX_NESTED_LABEL_GROUPS} groups at all levels with 406 label_group_too_large`, async () => {
    const half = Math.ceil((MAX_NESTED_LABEL_GROUPS + 1) / 2);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < half; i++) a.push(await group(`a-${i}`));
    for (let i = 0; i < MAX_NESTED_LABEL_GROUPS + 1 - half - 2; i++) b.push(await group(`b-${i}`));
    const left = await group('left', a);
    const right = await group('right', b);
    // left + right + their members = MAX + 1 groups below `all`
    const entries = await refusal(objects.create(actor, 'label_groups', { name: 'all', key: 'app', sub_groups: [ref(left), ref(right)] }));
    expect(entries.map((e) => e.token)).toEqual(['label_group_too_large']);
    b.pop();
    await objects.update(actor, 'label_groups', right, { sub_groups: b.map(ref) });
    await group('all', [left, right]);
  }, 60_000);

  it('creates a group reading only the head, its name claim and the groups it contains, however many groups exist', async () => {
    for (let i = 0; i < 300; i++) await group(`flat-${i}`);
    const sub = await group('sub');
    const mid = await group('mid', [sub]);
    const loads = store.fullLoads;
    const read = store.draftsRead;
    await group('new', [mid]);
    expect(store.fullLoads).toBe(loads);
    expect(store.draftsRead - read).toBe(2);
  }, 60_000);

  it('a 10,000-deep chain in the drafts: creating on top of it is a 406, not a stack overflow, and reads at most the cap', async () => {
    // written straight into the store, as a legacy or seeded org could hold it (the API would refuse it)
    await group('first');
    const fence = { region: 'us-east-1', epoch: 1 };
    const n = 10_000;
    const base = 5_000_000;
    const draft = await store.loadDraft(1);
    const now = Date.now();
    const put = Array.from({ length: n }, (_, i) => ({
      type: 'label_groups' as const,
      object: { id: base + i, createdAt: now, updatedAt: now, createdBy: 1, updatedBy: 1, name: `deep-${i}`, description: '', key: 'app' as const, labels: [], subGroups: i + 1 < n ? [base + i + 1] : [], externalDataSet: null, externalDataReference: null },
    }));
    await store.writeDraft({ orgId: 1, expectedHead: draft.head, ids: null, put, remove: [], now }, fence);
    const read = store.draftsRead;
    const entries = await refusal(objects.create(actor, 'label_groups', { name: 'on-top', key: 'app', sub_groups: [ref(base)] }));
    expect(entries.map((e) => e.token)).toEqual(['label_group_too_deep']);
    expect(store.draftsRead - read).toBeLessThanOrEqual(MAX_LABEL_GROUP_DEPTH);
    // an update of the chain's top goes over every draft: iterative walks, a 406 too
    const update = await refusal(objects.update(actor, 'label_groups', base, { description: 'x' }));
    expect(update.map((e) => e.token)).toContain('label_group_too_deep');
  }, 60_000);

  it('keeps names unique (case-insensitive) through claims; a deleted or renamed group frees its name', async () => {
    const web = await group('Web');
    expect((await refusal(objects.create(actor, 'label_groups', { name: 'WEB', key: 'app' }))).map((e) => e.token)).toEqual(['name_in_use']);
    await objects.update(actor, 'label_groups', web, { name: 'web-renamed' });
    await group('web');
    expect((await refusal(objects.create(actor, 'label_groups', { name: 'Web-Renamed', key: 'app' }))).map((e) => e.token)).toEqual(['name_in_use']);
    await objects.delete(actor, 'label_groups', web);
    await group('web-renamed');
  });

  it('drafts written before names were claimed: the first create reads them all and claims every name, later ones read few', async () => {
    const old = await group('old');
    store.forgetNameClaims(1);
    // without its claim the fast path could not see "old": the first create takes the full path
    const loads = store.fullLoads;
    expect((await refusal(objects.create(actor, 'label_groups', { name: 'OLD', key: 'app' }))).map((e) => e.token)).toEqual(['name_in_use']);
    await group('next', [old]);
    expect(store.fullLoads).toBeGreaterThan(loads);
    expect(await store.nameClaim(1, 'label_groups', 'old')).toBe(old);
    const after = store.fullLoads;
    expect((await refusal(objects.create(actor, 'label_groups', { name: 'Old', key: 'app' }))).map((e) => e.token)).toEqual(['name_in_use']);
    await group('later');
    expect(store.fullLoads).toBe(after);
  });
});
