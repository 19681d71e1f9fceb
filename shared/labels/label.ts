/**
 * Labels: the first replicated policy object. Not versioned (no draft/active), written on the leader only,
 * readable on every PCE. Shapes follow the public Illumio API.
 */
import { z } from 'zod';
import type { WriteFence } from '../supercluster/leader.ts';

export const LABEL_KEYS = ['role', 'app', 'env', 'loc'] as const;
export type LabelKey = (typeof LABEL_KEYS)[number];

const externalField = z.string().max(255, 'must be at most 255 characters').nullable();

export const createLabelSchema = z.strictObject({
  key: z.enum(LABEL_KEYS, { error: `must be one of ${LABEL_KEYS.join(', ')}` }),
  value: z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
  external_data_set: externalField.optional(),
  external_data_reference: externalField.optional(),
});

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
