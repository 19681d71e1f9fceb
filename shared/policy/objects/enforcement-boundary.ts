/**
 * Enforcement boundaries (`/sec_policy/{draft,active}/enforcement_boundaries`): deny boundaries between
 * consumers and providers on some services. A workload in selective mode blocks what a boundary covers
 * unless a rule allows it (shared/policy/model.ts). Actors: labels, label groups, IP lists and "ams".
 */
import { z } from 'zod';
import type { Actor, IngressService } from '../model.ts';
import { descriptionSchema, externalField, externalRefs, nameSchema, pick, type BuildContext, type ExternalRefs, type ObjectMeta } from './common.ts';
import { actorSchema, actors, ingress, ingressServiceSchema } from './rule-set.ts';

export interface EnforcementBoundary extends ObjectMeta, ExternalRefs {
  readonly name: string;
  readonly description: string | null;
  readonly providers: readonly Actor[];
  readonly consumers: readonly Actor[];
  readonly ingressServices: readonly IngressService[];
}

const BOUNDARY_ACTOR_KINDS: ReadonlySet<Actor['kind']> = new Set(['label', 'label_group', 'ip_list', 'ams']);

const actorList = z.array(actorSchema).min(1, 'must list at least one actor').max(1000, 'at most 1000 actors');

const fields = {
  name: nameSchema,
  description: descriptionSchema.optional(),
  providers: actorList,
  consumers: actorList,
  ingress_services: z.array(ingressServiceSchema).min(1, 'must list at least one service or port').max(1000, 'at most 1000 entries'),
  external_data_set: externalField.optional(),
  external_data_reference: externalField.optional(),
  // read-only fields Illumio shows; clients that put back what they read may keep them
  caps: z.array(z.string()).optional(),
};

export const createEnforcementBoundarySchema = z.strictObject(fields);
export const updateEnforcementBoundarySchema = z
  .strictObject(fields)
  .partial()
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one property to change' });

function boundaryActors(input: z.infer<typeof actorList>, ctx: BuildContext, field: string): Actor[] {
  const out = actors(input, ctx, field);
  input.forEach((a, i) => {
    if (a.workload || a.virtual_service) ctx.issues.add('input_validation_error', `${field}[${i}]: an enforcement boundary names labels, label groups, IP lists or "ams", not ${a.workload ? 'workloads' : 'virtual services'}`);
  });
  return out.filter((a) => BOUNDARY_ACTOR_KINDS.has(a.kind));
}

export function enforcementBoundaryFromCreate(input: z.infer<typeof createEnforcementBoundarySchema>, ctx: BuildContext, meta: ObjectMeta): EnforcementBoundary {
  return {
    ...meta,
    name: input.name,
    description: input.description ?? '',
    providers: boundaryActors(input.providers, ctx, 'providers'),
    consumers: boundaryActors(input.consumers, ctx, 'consumers'),
    ingressServices: ingress(input.ingress_services, ctx, 'ingress_services'),
    ...externalRefs(input),
  };
}

export function enforcementBoundaryFromUpdate(current: EnforcementBoundary, input: z.infer<typeof updateEnforcementBoundarySchema>, ctx: BuildContext, meta: ObjectMeta): EnforcementBoundary {
  return {
    ...meta,
    name: pick(input.name, current.name),
    description: pick(input.description, current.description),
    providers: input.providers === undefined ? current.providers : boundaryActors(input.providers, ctx, 'providers'),
    consumers: input.consumers === undefined ? current.consumers : boundaryActors(input.consumers, ctx, 'consumers'),
    ingressServices: input.ingress_services === undefined ? current.ingressServices : ingress(input.ingress_services, ctx, 'ingress_services'),
    ...externalRefs(input, current),
  };
}
