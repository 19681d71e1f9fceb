/**
 * Per type: parse a create/update body (406 per bad field) and return the builder that turns it into a
 * record once ids and timestamps are known. Parsing happens once; building may be retried.
 */
import { parseInput } from '../../api/validation.ts';
import type { BuildContext, ObjectMeta, PolicyObjectType } from './common.ts';
import { createIpListSchema, ipListFromCreate, ipListFromUpdate, updateIpListSchema } from './ip-list.ts';
import { createLabelGroupSchema, labelGroupFromCreate, labelGroupFromUpdate, updateLabelGroupSchema } from './label-group.ts';
import type { PolicyObjectMap } from './objects.ts';
import { createRuleSetSchema, ruleSetFromCreate, ruleSetFromUpdate, updateRuleSetSchema } from './rule-set.ts';
import { createEnforcementBoundarySchema, enforcementBoundaryFromCreate, enforcementBoundaryFromUpdate, updateEnforcementBoundarySchema } from './enforcement-boundary.ts';
import { createVirtualServiceSchema, updateVirtualServiceSchema, virtualServiceFromCreate, virtualServiceFromUpdate } from './virtual-service.ts';
import { createServiceSchema, serviceFromCreate, serviceFromUpdate, updateServiceSchema } from './service.ts';

export interface ObjectKind<T> {
  create(body: unknown): (ctx: BuildContext, meta: ObjectMeta) => T;
  update(body: unknown): (current: T, ctx: BuildContext, meta: ObjectMeta) => T;
}

export const OBJECT_KINDS: { readonly [K in PolicyObjectType]: ObjectKind<PolicyObjectMap[K]> } = {
  label_groups: {
    create: (body) => {
      const input = parseInput(createLabelGroupSchema, body);
      return (ctx, meta) => labelGroupFromCreate(input, ctx, meta);
    },
    update: (body) => {
      const input = parseInput(updateLabelGroupSchema, body);
      return (current, ctx, meta) => labelGroupFromUpdate(current, input, ctx, meta);
    },
  },
  services: {
    create: (body) => {
      const input = parseInput(createServiceSchema, body);
      return (ctx, meta) => serviceFromCreate(input, ctx, meta);
    },
    update: (body) => {
      const input = parseInput(updateServiceSchema, body);
      return (current, ctx, meta) => serviceFromUpdate(current, input, ctx, meta);
    },
  },
  ip_lists: {
    create: (body) => {
      const input = parseInput(createIpListSchema, body);
      return (ctx, meta) => ipListFromCreate(input, ctx, meta);
    },
    update: (body) => {
      const input = parseInput(updateIpListSchema, body);
      return (current, ctx, meta) => ipListFromUpdate(current, input, ctx, meta);
    },
  },
  rule_sets: {
    create: (body) => {
      const input = parseInput(createRuleSetSchema, body);
      return (ctx, meta) => ruleSetFromCreate(input, ctx, meta);
    },
    update: (body) => {
      const input = parseInput(updateRuleSetSchema, body);
      return (current, ctx, meta) => ruleSetFromUpdate(current, input, ctx, meta);
    },
  },
  enforcement_boundaries: {
    create: (body) => {
      const input = parseInput(createEnforcementBoundarySchema, body);
      return (ctx, meta) => enforcementBoundaryFromCreate(input, ctx, meta);
    },
    update: (body) => {
      const input = parseInput(updateEnforcementBoundarySchema, body);
      return (current, ctx, meta) => enforcementBoundaryFromUpdate(current, input, ctx, meta);
    },
  },
  virtual_services: {
    create: (body) => {
      const input = parseInput(createVirtualServiceSchema, body);
      return (ctx, meta) => virtualServiceFromCreate(input, ctx, meta);
    },
    update: (body) => {
      const input = parseInput(updateVirtualServiceSchema, body);
      return (current, ctx, meta) => virtualServiceFromUpdate(current, input, ctx, meta);
    },
  },
};
