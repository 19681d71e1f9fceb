/** Test data builders for policy object records (domain shape, ids given explicitly). */
import type { ObjectMeta } from '../../../shared/policy/objects/common.ts';
import type { IpList } from '../../../shared/policy/objects/ip-list.ts';
import type { LabelGroup } from '../../../shared/policy/objects/label-group.ts';
import type { PolicyObjects } from '../../../shared/policy/objects/objects.ts';
import type { Rule, RuleSet } from '../../../shared/policy/objects/rule-set.ts';
import type { Service } from '../../../shared/policy/objects/service.ts';

export const meta = (id: number, at = 1_000): ObjectMeta => ({ id, createdAt: at, updatedAt: at, createdBy: 1, updatedBy: 1 });
const ext = { externalDataSet: null, externalDataReference: null };

export const service = (id: number, over: Partial<Service> = {}): Service => ({ ...meta(id), name: `svc-${id}`, description: '', servicePorts: [{ proto: 6, port: 443 }], ...ext, ...over });
export const ipList = (id: number, over: Partial<IpList> = {}): IpList => ({ ...meta(id), name: `ipl-${id}`, description: '', ipRanges: [{ fromIp: '10.0.0.0/8', exclusion: false }], fqdns: [], ...ext, ...over });
export const labelGroup = (id: number, over: Partial<LabelGroup> = {}): LabelGroup => ({ ...meta(id), name: `lg-${id}`, description: '', key: 'role', labels: [], subGroups: [], ...ext, ...over });
export const rule = (id: number, over: Partial<Rule> = {}): Rule => ({
  ...meta(id),
  enabled: true,
  description: '',
  providers: [{ kind: 'ams' }],
  consumers: [{ kind: 'ams' }],
  ingressServices: [{ kind: 'port', proto: 6, port: 22 }],
  resolveLabelsAs: { providers: ['workloads'], consumers: ['workloads'] },
  unscopedConsumers: false,
  ...ext,
  ...over,
});
export const ruleSet = (id: number, over: Partial<RuleSet> = {}): RuleSet => ({ ...meta(id), name: `rs-${id}`, description: '', enabled: true, scopes: [[]], rules: [], ...ext, ...over });

export const objects = (over: Partial<PolicyObjects> = {}): PolicyObjects => ({ label_groups: [], services: [], ip_lists: [], rule_sets: [], enforcement_boundaries: [], virtual_services: [], ...over });
