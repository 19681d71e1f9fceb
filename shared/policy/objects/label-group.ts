/** Label groups: named sets of labels of one key, nesting other groups of the same key. */
import { z } from 'zod';
import { labelKeySchema, type LabelKey } from '../../labels/label.ts';
import type { LabelId, ObjectId } from '../model.ts';
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
  type BuildContext,
  type ExternalRefs,
  type ObjectMeta,
} from './common.ts';

export interface LabelGroup extends ObjectMeta, ExternalRefs {
  readonly name: string;
  readonly description: string | null;
  readonly key: LabelKey;
  readonly labels: readonly LabelId[];
  readonly subGroups: readonly ObjectId[];
}

const labelsField = z.array(labelRefSchema).max(10_000, 'at most 10000 labels');
const subGroupsField = z.array(objectRefSchema('label_groups')).max(1000, 'at most 1000 sub-groups');
/** role, app, env, loc or a label dimension's key (checked against the org's dimensions when the group is created) */
const keyField = labelKeySchema;

export const createLabelGroupSchema = z.strictObject({
  name: nameSchema,
  description: descriptionSchema.optional(),
  key: keyField,
  labels: labelsField.default([]),
  sub_groups: subGroupsField.default([]),
  external_data_set: externalField.optional(),
  external_data_reference: externalField.optional(),
});

export const updateLabelGroupSchema = z
  .strictObject({
    name: nameSchema.optional(),
    description: descriptionSchema.optional(),
    /** accepted so that a GET body can be sent back, but the key of a group never changes */
    key: keyField.optional(),
    labels: labelsField.optional(),
    sub_groups: subGroupsField.optional(),
    external_data_set: externalField.optional(),
    external_data_reference: externalField.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'send at least one property to change' });

type LabelRefs = z.infer<typeof labelsField>;
type GroupRefs = z.infer<typeof subGroupsField>;

const labelIds = (refs: LabelRefs, ctx: BuildContext) => unique(refs.map((r, i) => refId(r.href, ctx, `labels[${i}].href`)));
const groupIds = (refs: GroupRefs, ctx: BuildContext) => unique(refs.map((r, i) => refId(r.href, ctx, `sub_groups[${i}].href`)));

export function labelGroupFromCreate(input: z.infer<typeof createLabelGroupSchema>, ctx: BuildContext, meta: ObjectMeta): LabelGroup {
  return {
    ...meta,
    name: input.name,
    description: input.description ?? '',
    key: input.key,
    labels: labelIds(input.labels, ctx),
    subGroups: groupIds(input.sub_groups, ctx),
    ...externalRefs(input),
  };
}

export function labelGroupFromUpdate(current: LabelGroup, input: z.infer<typeof updateLabelGroupSchema>, ctx: BuildContext, meta: ObjectMeta): LabelGroup {
  if (input.key !== undefined && input.key !== current.key) ctx.issues.add('label_group_key_immutable', `key: the key of a label group cannot change (it is ${current.key})`);
  return {
    ...meta,
    name: pick(input.name, current.name),
    description: pick(input.description, current.description),
    key: current.key,
    labels: input.labels === undefined ? current.labels : labelIds(input.labels, ctx),
    subGroups: input.sub_groups === undefined ? current.subGroups : groupIds(input.sub_groups, ctx),
    ...externalRefs(input, current),
  };
}

export { findSubGroupCycle } from './label-group-graph.ts';
