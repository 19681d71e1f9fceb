import { describe, expect, it } from 'vitest';
import { pendingChanges, planProvision, provisionProblems, resolveLabels, ruleUpdateType } from '../../../shared/policy/objects/pending.ts';
import { ipList, labelGroup, meta, objects, rule, ruleSet, service } from './records.ts';

describe('pending changes (draft vs active)', () => {
  it('creates, updates and deletes; who/when alone is no change', () => {
    const active = objects({ services: [service(1), service(2), service(3)], ip_lists: [ipList(5)] });
    const draft = objects({
      services: [service(1, { ...meta(1, 9_999), updatedBy: 7 }), service(2, { servicePorts: [{ proto: 17, port: 53 }] }), service(4)],
      ip_lists: [ipList(5)],
    });
    expect(pendingChanges(draft, active).map((c) => [c.type, c.id, c.updateType])).toEqual([
      ['services', 2, 'update'],
      ['services', 3, 'delete'],
      ['services', 4, 'create'],
    ]);
  });

  it('a rule change makes its rule set pending, and is visible per rule', () => {
    const before = ruleSet(10, { rules: [rule(11), rule(12)] });
    const after = ruleSet(10, { rules: [rule(11), rule(12, { enabled: false }), rule(13)] });
    expect(pendingChanges(objects({ rule_sets: [after] }), objects({ rule_sets: [before] }))).toMatchObject([{ type: 'rule_sets', id: 10, updateType: 'update' }]);
    expect(after.rules.map((r) => ruleUpdateType(r, before))).toEqual([null, 'update', 'create']);
  });

  it('compares content regardless of attribute order (stores do not keep it)', () => {
    const a = service(1);
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as typeof a;
    expect(pendingChanges(objects({ services: [reordered] }), objects({ services: [a] }))).toEqual([]);
  });
});

describe('provision plans', () => {
  const draft = objects({
    services: [service(1), service(2, { servicePorts: [{ proto: 6, port: 8443 }] })],
    ip_lists: [ipList(5)],
    rule_sets: [ruleSet(10, { rules: [rule(11, { ingressServices: [{ kind: 'service', id: 2 }], consumers: [{ kind: 'ip_list', id: 5 }] })] })],
  });

  it('everything pending when no subset is given', () => {
    const plan = planProvision(draft, objects(), 'all');
    expect(plan.changes).toHaveLength(4);
    expect(plan.next).toEqual(draft);
    expect(provisionProblems(1, plan.next, draft, objects())).toEqual([]);
  });

  it('a subset that leaves a dependency unprovisioned is refused, naming both objects', () => {
    const plan = planProvision(draft, objects(), [{ type: 'rule_sets', id: 10 }, { type: 'services', id: 2 }]);
    expect(plan.changes.map((c) => `${c.type}/${c.id}`)).toEqual(['services/2', 'rule_sets/10']);
    expect(provisionProblems(1, plan.next, draft, objects())).toEqual([
      {
        token: 'unprovisioned_dependency',
        message: '/orgs/1/sec_policy/draft/rule_sets/10 refers to /orgs/1/sec_policy/draft/ip_lists/5, which would not be active: it has never been provisioned; add it to change_subset',
      },
    ]);
  });

  it('deleting an object that stays referenced by an active rule set is refused', () => {
    const active = planProvision(draft, objects(), 'all').next;
    const draftWithoutIpList = objects({ ...draft, ip_lists: [], rule_sets: [ruleSet(10, { rules: [rule(11)] })] });
    const plan = planProvision(draftWithoutIpList, active, [{ type: 'ip_lists', id: 5 }]);
    expect(plan.changes).toMatchObject([{ type: 'ip_lists', id: 5, updateType: 'delete' }]);
    expect(provisionProblems(1, plan.next, draftWithoutIpList, active).map((p) => p.message)).toEqual([
      '/orgs/1/sec_policy/draft/rule_sets/10 refers to /orgs/1/sec_policy/draft/ip_lists/5, which would not be active: its deletion is part of this provision',
    ]);
    // together with the rule set change it is fine
    const both = planProvision(draftWithoutIpList, active, [{ type: 'ip_lists', id: 5 }, { type: 'rule_sets', id: 10 }]);
    expect(provisionProblems(1, both.next, draftWithoutIpList, active)).toEqual([]);
  });

  it('refuses label group cycles formed by mixing active and draft versions', () => {
    const active = objects({ label_groups: [labelGroup(1), labelGroup(2, { subGroups: [1] })] });
    const draft2 = objects({ label_groups: [labelGroup(1, { subGroups: [2] }), labelGroup(2)] });
    const plan = planProvision(draft2, active, [{ type: 'label_groups', id: 1 }]);
    expect(provisionProblems(1, plan.next, draft2, active).map((p) => p.token)).toEqual(['label_group_cycle']);
  });

  it('copies the labels the policy names, current values first, then the previous version', () => {
    const next = objects({ label_groups: [labelGroup(1, { labels: [7, 8] })], rule_sets: [ruleSet(2, { scopes: [[{ kind: 'label', id: 9 }]] })] });
    const resolved = resolveLabels(1, next, [{ id: 7, key: 'role', value: 'web-renamed' }], [
      { id: 7, key: 'role', value: 'web' },
      { id: 8, key: 'role', value: 'db' },
    ]);
    expect(resolved.labels).toEqual([
      { id: 7, key: 'role', value: 'web-renamed' },
      { id: 8, key: 'role', value: 'db' },
    ]);
    expect(resolved.problems).toEqual([{ token: 'label_not_found', message: 'label /orgs/1/labels/9 is referred to by the policy but does not exist' }]);
  });
});
