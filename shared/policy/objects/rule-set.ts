/**
 * Rule sets and their rules (`{rule_set_href}/sec_rules`). A rule set is provisioned as a whole, rules
 * included, so rules live inside their rule set's record; each rule still has its own integer id and href.
 */
import { z } from 'zod';
import type { Actor, IngressService, RuleSide, ScopeEntry } from '../model.ts';
import {
  descriptionSchema,
  externalField,
  externalRefs,
  labelRefSchema,
  nameSchema,
  objectRefSchema,
  pick,
  refId,
  unique,
  workloadRefSchema,
  type BuildContext,
  type ExternalRefs,
  type ObjectMeta,
} from './common.ts';
import { checkServicePort, servicePortFields } from './service.ts';

/** What a rule's label actors select: workloads, virtual services (with those labels) or both. */
export const RESOLVE_AS = ['workloads', 'virtual_services'] as const;
export type ResolveAs = (typeof RESOLVE_AS)[number];

export interface ResolveLabelsAs {
  readonly providers: readonly ResolveAs[];
  readonly consumers: readonly ResolveAs[];
}

/** `use_workload_subnets`: the sides whose workloads stand for their interfaces' subnets, not their addresses. */
export const SUBNET_SIDES = ['providers', 'consumers'] as const satisfies readonly RuleSide[];
export type SubnetSide = RuleSide;

export interface Rule extends ObjectMeta, ExternalRefs {
  readonly enabled: boolean;
  readonly description: string | null;
  readonly providers: readonly Actor[];
  readonly consumers: readonly Actor[];
  readonly ingressServices: readonly IngressService[];
  readonly resolveLabelsAs: ResolveLabelsAs;
  readonly unscopedConsumers: boolean;
  /** absent (rules stored before the field) = [] */
  readonly useWorkloadSubnets?: readonly SubnetSide[];
}

export interface RuleSet extends ObjectMeta, ExternalRefs {
  readonly name: string;
  readonly description: string | null;
  readonly enabled: boolean;
  /** OR of scopes, each an AND of entries; [[]] = all workloads */
  readonly scopes: readonly (readonly ScopeEntry[])[];
  readonly rules: readonly Rule[];
}

const exactlyOne = (names: readonly string[]) => (o: Record<string, unknown>) => names.filter((n) => o[n] !== undefined).length === 1;

// newer PCEs send `exclusion: false` on scope entries and actors; exclusions themselves are not supported
const noExclusion = z.literal(false, { error: 'exclusions are not supported' }).optional();

const scopeEntrySchema = z
  .strictObject({ label: labelRefSchema.optional(), label_group: objectRefSchema('label_groups').optional(), exclusion: noExclusion })
  .refine(exactlyOne(['label', 'label_group']), { message: 'a scope entry has exactly one of label, label_group' });

const ACTOR_KINDS = ['label', 'label_group', 'ip_list', 'workload', 'virtual_service', 'actors'] as const;
export const actorSchema = z
  .strictObject({
    label: labelRefSchema.optional(),
    label_group: objectRefSchema('label_groups').optional(),
    ip_list: objectRefSchema('ip_lists').optional(),
    workload: workloadRefSchema.optional(),
    virtual_service: objectRefSchema('virtual_services').optional(),
    actors: z.literal('ams', { error: 'the only supported value is "ams" (all managed workloads)' }).optional(),
    exclusion: noExclusion,
  })
  .refine(exactlyOne(ACTOR_KINDS), { message: `an actor has exactly one of ${ACTOR_KINDS.join(', ')}` });

export const ingressServiceSchema = z
  .strictObject({ href: objectRefSchema('services').shape.href.optional(), ...servicePortFields, proto: servicePortFields.proto.optional() })
  .refine((s) => (s.href === undefined) !== (s.proto === undefined), { message: 'an ingress service is either {href} of a service or {proto, port?, to_port?}' })
  .refine((s) => s.href === undefined || (s.port === undefined && s.to_port === undefined), { message: 'an ingress service with an href takes no port' });

const resolveAsField = z.array(z.enum(RESOLVE_AS, { error: 'must be "workloads" or "virtual_services"' })).min(1, 'must not be empty');

const ruleFields = {
  enabled: z.boolean(),
  description: descriptionSchema,
  providers: z.array(actorSchema).min(1, 'must list at least one actor').max(1000, 'at most 1000 actors'),
  consumers: z.array(actorSchema).min(1, 'must list at least one actor').max(1000, 'at most 1000 actors'),
  // empty only when every provider is a virtual service (its ports are the rule's): checked when building
  ingress_services: z.array(ingressServiceSchema).max(1000, 'at most 1000 entries'),
  resolve_labels_as: z.strictObject({ providers: resolveAsField, consumers: resolveAsField }),
  unscoped_consumers: z.boolean(),
  use_workload_subnets: z.array(z.enum(SUBNET_SIDES, { error: 'must be "providers" or "consumers"' })).max(2, 'at most providers and consumers'),
  // Illumio fields clients echo back; only their default values are supported
  sec_connect: z.literal(false, { error: 'SecureConnect rules are not supported' }).optional(),
  stateless: z.literal(false, { error: 'stateless rules are not supported' }).optional(),
  machine_auth: z.literal(false, { error: 'machine authentication rules are not supported' }).optional(),
  network_type: z.literal('brn', { error: 'only "brn" is supported' }).optional(),
  consuming_security_principals: z.array(z.unknown()).max(0, 'consuming security principals are not supported').optional(),
  external_data_set: externalField,
  external_data_reference: externalField,
};

export const createRuleSchema = z.strictObject({
  ...ruleFields,
  enabled: ruleFields.enabled.default(true),
  description: ruleFields.description.optional(),
  resolve_labels_as: ruleFields.resolve_labels_as.default({ providers: ['workloads'], consumers: ['workloads'] }),
  unscoped_consumers: ruleFields.unscoped_consumers.default(false),
  use_workload_subnets: ruleFields.use_workload_subnets.optional(),
  external_data_set: ruleFields.external_data_set.optional(),
  external_data_reference: ruleFields.external_data_reference.optional(),
});

export const updateRuleSchema = z
  .strictObject({
    enabled: ruleFields.enabled.optional(),
    description: ruleFields.description.optional(),
    providers: ruleFields.providers.optional(),
    consumers: ruleFields.consumers.optional(),
    ingress_services: ruleFields.ingress_services.optional(),
    resolve_labels_as: ruleFields.resolve_labels_as.optional(),
    unscoped_consumers: ruleFields.unscoped_consumers.optional(),
    use_workload_subnets: ruleFields.use_workload_subnets.optional(),
    sec_connect: ruleFields.sec_connect,
    stateless: ruleFields.stateless,
    machine_auth: ruleFields.machine_auth,
    network_type: ruleFields.network_type,
    consuming_security_principals: ruleFields.consuming_security_principals,
    external_data_set: ruleFields.external_data_set.optional(),
    external_data_reference: ruleFields.external_data_reference.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one property to change' });

const scopesField = z.array(z.array(scopeEntrySchema).max(20, 'at most 20 entries per scope')).max(500, 'at most 500 scopes');
// clients echo the empty list a GET shows back on PUT; custom iptables rules themselves are not supported
const ipTablesRulesField = z.array(z.unknown()).max(0, 'custom iptables rules are not supported').optional();

export const createRuleSetSchema = z.strictObject({
  name: nameSchema,
  description: descriptionSchema.optional(),
  enabled: z.boolean().default(true),
  scopes: scopesField.default([[]]),
  rules: z.array(createRuleSchema).max(500, 'at most 500 rules; add more with POST .../sec_rules').default([]),
  ip_tables_rules: ipTablesRulesField,
  external_data_set: externalField.optional(),
  external_data_reference: externalField.optional(),
});

export const updateRuleSetSchema = z
  .strictObject({
    name: nameSchema.optional(),
    description: descriptionSchema.optional(),
    enabled: z.boolean().optional(),
    scopes: scopesField.optional(),
    ip_tables_rules: ipTablesRulesField,
    external_data_set: externalField.optional(),
    external_data_reference: externalField.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one property to change (rules are changed under .../sec_rules)' });

type ScopesInput = z.infer<typeof scopesField>;
type ActorInput = z.infer<typeof actorSchema>;
type IngressInput = z.infer<typeof ingressServiceSchema>;
type CreateRuleInput = z.infer<typeof createRuleSchema>;
type UpdateRuleInput = z.infer<typeof updateRuleSchema>;

function scopes(input: ScopesInput, ctx: BuildContext): ScopeEntry[][] {
  return input.map((scope, i) =>
    scope.map((e, j): ScopeEntry => {
      const field = `scopes[${i}][${j}]`;
      if (e.label) return { kind: 'label', id: refId(e.label.href, ctx, `${field}.label.href`) };
      if (e.label_group) return { kind: 'label_group', id: refId(e.label_group.href, ctx, `${field}.label_group.href`) };
      throw new Error('unreachable: the schema requires label or label_group');
    }),
  );
}

export function actors(input: readonly ActorInput[], ctx: BuildContext, field: string): Actor[] {
  const out: Actor[] = input.map((a, i): Actor => {
    const f = `${field}[${i}]`;
    if (a.label) return { kind: 'label', id: refId(a.label.href, ctx, `${f}.label.href`) };
    if (a.label_group) return { kind: 'label_group', id: refId(a.label_group.href, ctx, `${f}.label_group.href`) };
    if (a.ip_list) return { kind: 'ip_list', id: refId(a.ip_list.href, ctx, `${f}.ip_list.href`) };
    if (a.workload) return { kind: 'workload', id: refId(a.workload.href, ctx, `${f}.workload.href`) };
    if (a.virtual_service) return { kind: 'virtual_service', id: refId(a.virtual_service.href, ctx, `${f}.virtual_service.href`) };
    return { kind: 'ams' };
  });
  const seen = new Set<string>();
  return out.filter((a) => {
    const key = JSON.stringify(a);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function resolveAs(input: ResolveLabelsAs): ResolveLabelsAs {
  return { providers: unique(input.providers), consumers: unique(input.consumers) };
}

export function ingress(input: readonly IngressInput[], ctx: BuildContext, field: string): IngressService[] {
  return input.map((s, i): IngressService => {
    const f = `${field}[${i}]`;
    if (s.href) return { kind: 'service', id: refId(s.href, ctx, `${f}.href`) };
    return { kind: 'port', ...checkServicePort({ proto: s.proto ?? 0, port: s.port, to_port: s.to_port }, f, ctx.issues) };
  });
}

/**
 * A rule without ingress services takes its providers' ports: every provider must then be a virtual service,
 * or, when the providers' labels resolve as virtual services only (`resolve_labels_as.providers:
 * ["virtual_services"]`, where the Terraform provider requires ingress_services to be empty), a label or
 * label group standing for the virtual services it matches.
 */
function checkServicesOrVirtualServices(rule: Rule, ctx: BuildContext, field: string): Rule {
  const labelsAreVirtualServices = !rule.resolveLabelsAs.providers.includes('workloads');
  const portsFromProviders = rule.providers.every((a) => a.kind === 'virtual_service' || (labelsAreVirtualServices && (a.kind === 'label' || a.kind === 'label_group')));
  if (rule.ingressServices.length === 0 && (rule.providers.length === 0 || !portsFromProviders)) {
    ctx.issues.add(
      'input_validation_error',
      `${field}ingress_services: must list at least one service or port (it may be empty only when every provider is a virtual service, or a label or label group resolved as virtual services)`,
    );
  }
  return rule;
}

const subnetSides = (sides: readonly SubnetSide[] | undefined): { useWorkloadSubnets?: SubnetSide[] } => (sides === undefined || sides.length === 0 ? {} : { useWorkloadSubnets: unique(sides) });

export function ruleFromCreate(input: CreateRuleInput, ctx: BuildContext, meta: ObjectMeta, field = ''): Rule {
  return checkServicesOrVirtualServices({
    ...meta,
    enabled: input.enabled,
    description: input.description ?? '',
    providers: actors(input.providers, ctx, `${field}providers`),
    consumers: actors(input.consumers, ctx, `${field}consumers`),
    ingressServices: ingress(input.ingress_services, ctx, `${field}ingress_services`),
    resolveLabelsAs: resolveAs(input.resolve_labels_as),
    unscopedConsumers: input.unscoped_consumers,
    ...subnetSides(input.use_workload_subnets),
    ...externalRefs(input),
  }, ctx, field);
}

export function ruleFromUpdate(current: Rule, input: UpdateRuleInput, ctx: BuildContext, meta: ObjectMeta): Rule {
  return checkServicesOrVirtualServices({
    ...meta,
    enabled: pick(input.enabled, current.enabled),
    description: pick(input.description, current.description),
    providers: input.providers === undefined ? current.providers : actors(input.providers, ctx, 'providers'),
    consumers: input.consumers === undefined ? current.consumers : actors(input.consumers, ctx, 'consumers'),
    ingressServices: input.ingress_services === undefined ? current.ingressServices : ingress(input.ingress_services, ctx, 'ingress_services'),
    resolveLabelsAs: input.resolve_labels_as === undefined ? current.resolveLabelsAs : resolveAs(input.resolve_labels_as),
    unscopedConsumers: pick(input.unscoped_consumers, current.unscopedConsumers),
    ...subnetSides(pick(input.use_workload_subnets, current.useWorkloadSubnets)),
    ...externalRefs(input, current),
  }, ctx, '');
}

export function ruleSetFromCreate(input: z.infer<typeof createRuleSetSchema>, ctx: BuildContext, meta: ObjectMeta): RuleSet {
  return {
    ...meta,
    name: input.name,
    description: input.description ?? '',
    enabled: input.enabled,
    scopes: scopes(input.scopes, ctx),
    rules: input.rules.map((r, i) => ruleFromCreate(r, ctx, { ...meta, id: ctx.allocateId() }, `rules[${i}].`)),
    ...externalRefs(input),
  };
}

export function ruleSetFromUpdate(current: RuleSet, input: z.infer<typeof updateRuleSetSchema>, ctx: BuildContext, meta: ObjectMeta): RuleSet {
  return {
    ...meta,
    name: pick(input.name, current.name),
    description: pick(input.description, current.description),
    enabled: pick(input.enabled, current.enabled),
    scopes: input.scopes === undefined ? current.scopes : scopes(input.scopes, ctx),
    rules: current.rules,
    ...externalRefs(input, current),
  };
}
