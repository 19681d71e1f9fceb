/**
 * Labels: the first replicated policy object. Not versioned (no draft/active), written on the leader only,
 * readable on every PCE. Shapes follow the public Illumio API.
 */
import { z } from 'zod';
import type { WriteFence } from '../supercluster/leader.ts';

/** The built-in label keys; an org adds its own as label dimensions (label-dimension.ts). */
export const LABEL_KEYS = ['role', 'app', 'env', 'loc'] as const;
/** A label key: a built-in one or a custom label dimension's. */
export type LabelKey = string;

/** The form of a label key: letters, digits, `_`, `-`, `.` (starting with a letter or digit), at most 64. */
export const LABEL_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const labelKeySchema = z.string().regex(LABEL_KEY_PATTERN, 'must be 1 to 64 letters, digits, _, - or . (starting with a letter or digit)');

const externalField = z.string().max(255, 'must be at most 255 characters').nullable();

export const createLabelSchema = z.strictObject({
  /** role, app, env, loc or the key of a label dimension of the org (checked by LabelService) */
  key: labelKeySchema,
  value: z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
  external_data_set: externalField.optional(),
  external_data_reference: externalField.optional(),
});

/** The create schema of an org whose label keys are `keys` (the built-ins and its label dimensions). */
export function createLabelSchemaFor(keys: ReadonlySet<string>) {
  return createLabelSchema.extend({ key: labelKeySchema.refine((k) => keys.has(k), { message: `must be one of ${[...keys].join(', ')} (add a label dimension for another key)` }) });
}

export const updateLabelSchema = z
  .strictObject({
    value: createLabelSchema.shape.value.optional(),
    external_data_set: externalField.optional(),
    external_data_reference: externalField.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'send at least one of value, external_data_set, external_data_reference' });

export type CreateLabelInput = z.infer<typeof createLabelSchema>;
export type UpdateLabelInput = z.infer<typeof updateLabelSchema>;

export interface Label {
  readonly orgId: number;
  readonly id: number;
  readonly key: LabelKey;
  readonly value: string;
  readonly externalDataSet: string | null;
  readonly externalDataReference: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly createdBy: number;
  readonly updatedBy: number;
}

export interface LabelFilter {
  readonly key?: string;
  /** partial, case-insensitive */
  readonly value?: string;
  readonly externalDataSet?: string;
  readonly externalDataReference?: string;
}

const LABEL_HREF = /^\/orgs\/(\d{1,15})\/labels\/(\d{1,15})$/;

/** The org and label id of a label href, or null when it is not one. */
export function labelIdFromHref(href: string): { orgId: number; id: number } | null {
  const m = LABEL_HREF.exec(href);
  return m?.[1] && m[2] ? { orgId: Number(m[1]), id: Number(m[2]) } : null;
}

export function labelHref(orgId: number, id: number): string {
  return `/orgs/${orgId}/labels/${id}`;
}

export function matchesFilter(label: Label, filter: LabelFilter): boolean {
  if (filter.key !== undefined && label.key !== filter.key) return false;
  if (filter.value !== undefined && !label.value.toLowerCase().includes(filter.value.toLowerCase())) return false;
  if (filter.externalDataSet !== undefined && label.externalDataSet !== filter.externalDataSet) return false;
  if (filter.externalDataReference !== undefined && label.externalDataReference !== filter.externalDataReference) return false;
  return true;
}

/** The public JSON shape. */
export function labelToJson(label: Label) {
  return {
    href: labelHref(label.orgId, label.id),
    key: label.key,
    value: label.value,
    external_data_set: label.externalDataSet,
    external_data_reference: label.externalDataReference,
    created_at: new Date(label.createdAt).toISOString(),
    updated_at: new Date(label.updatedAt).toISOString(),
    created_by: { href: `/users/${label.createdBy}` },
    updated_by: { href: `/users/${label.updatedBy}` },
  };
}

export interface LabelStore {
  list(orgId: number): Promise<Label[]>;
  /** `consistent` for the leader's read-before-write (a label written a moment ago) */
  get(orgId: number, id: number, options?: { consistent?: boolean }): Promise<Label | null>;
  /** The labels of `ids` that exist, in no particular order (batched reads: 100 ids a request). */
  getMany(orgId: number, ids: readonly number[], options?: { consistent?: boolean }): Promise<Label[]>;
  /** Allocates the id and stores the label, fenced by the leader record. */
  create(input: { orgId: number; key: LabelKey; value: string; externalDataSet: string | null; externalDataReference: string | null; userId: number; now: number }, fence: WriteFence): Promise<Label>;
  update(current: Label, next: Label, fence: WriteFence): Promise<void>;
  delete(label: Label, fence: WriteFence): Promise<void>;
}

/** A label with the same key and value exists. */
export class DuplicateLabelError extends Error {
  override readonly name = 'DuplicateLabelError';
}

/** The object changed or vanished between read and write. */
export class LabelChangedError extends Error {
  override readonly name = 'LabelChangedError';
}
