/**
 * Label dimensions (`/orgs/{org}/label_dimensions`, the Terraform provider's `label_type`): the label keys of an
 * org. The four built-in keys (role, app, env, loc) always exist (href `/orgs/{org}/label_dimensions/<key>`,
 * display settings changeable, never deleted); custom keys get a UUID href, are unique, and are accepted by
 * labels, label groups and rule set scopes once created. A dimension's key never changes.
 */
import { z } from 'zod';
import { LABEL_KEYS, labelKeySchema } from './label.ts';
import type { StoredDocument } from '../documents/document-store.ts';

const BUILT_IN_NAMES: Readonly<Record<string, { name: string; plural: string; initial: string; color: string }>> = {
  role: { name: 'Role', plural: 'Roles', initial: 'R', color: '#5b5b5b' },
  app: { name: 'Application', plural: 'Applications', initial: 'A', color: '#2e7d32' },
  env: { name: 'Environment', plural: 'Environments', initial: 'E', color: '#1565c0' },
  loc: { name: 'Location', plural: 'Locations', initial: 'L', color: '#6a1b9a' },
};

export function isBuiltInKey(key: string): boolean {
  return (LABEL_KEYS as readonly string[]).includes(key);
}

const displayInfoSchema = z.strictObject({
  icon: z.string().max(64).nullable().optional(),
  initial: z.string().max(2, 'must be at most 2 characters').nullable().optional(),
  background_color: z.string().max(32).nullable().optional(),
  foreground_color: z.string().max(32).nullable().optional(),
  display_name_plural: z.string().max(255).nullable().optional(),
  sort_ordinal: z.number().int().min(0).max(1_000_000).nullable().optional(),
});

const externalField = z.string().max(255, 'must be at most 255 characters').nullable();
const displayName = z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters');

export const createLabelDimensionSchema = z.strictObject({
  key: labelKeySchema,
  display_name: displayName,
  display_info: displayInfoSchema.nullable().optional(),
  external_data_set: externalField.optional(),
  external_data_reference: externalField.optional(),
});

/** PUT: what clients send back (the Go library sends the href; the Terraform provider sends the key): the key may only repeat itself. */
export const updateLabelDimensionSchema = z
  .strictObject({
    href: z.string().max(255).optional(),
    key: labelKeySchema.optional(),
    display_name: displayName.optional(),
    display_info: displayInfoSchema.nullable().optional(),
    external_data_set: externalField.optional(),
    external_data_reference: externalField.optional(),
  })
  .refine((b) => Object.keys(b).filter((k) => k !== 'href' && k !== 'key').length > 0, { message: 'send at least one of display_name, display_info, external_data_set, external_data_reference' });

export type DisplayInfo = z.infer<typeof displayInfoSchema>;

/** The stored body of a dimension (DocumentStore body). */
export interface LabelDimensionBody {
  readonly key: string;
  readonly display_name: string;
  readonly display_info: DisplayInfo;
  readonly external_data_set: string | null;
  readonly external_data_reference: string | null;
  readonly created_by: number;
  readonly updated_by: number;
}

export interface LabelDimension extends LabelDimensionBody {
  readonly id: string;
  readonly builtIn: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export function labelDimensionHref(orgId: number, id: string): string {
  return `/orgs/${orgId}/label_dimensions/${id}`;
}

const DIMENSION_HREF = /^\/orgs\/\d{1,15}\/label_dimensions\/([a-zA-Z0-9-]{1,64})$/;

export function dimensionIdFromHref(href: string): string | null {
  return DIMENSION_HREF.exec(href)?.[1] ?? null;
}

/** The built-in dimensions as they are before anyone changes their display settings. */
export function builtInDimensions(): LabelDimension[] {
  return LABEL_KEYS.map((key) => {
    const n = BUILT_IN_NAMES[key] ?? { name: key, plural: key, initial: key.slice(0, 1).toUpperCase(), color: '#5b5b5b' };
    return {
      id: key,
      builtIn: true,
      key,
      display_name: n.name,
      display_info: { initial: n.initial, background_color: n.color, foreground_color: '#ffffff', display_name_plural: n.plural, sort_ordinal: LABEL_KEYS.indexOf(key) },
      external_data_set: null,
      external_data_reference: null,
      created_by: 0,
      updated_by: 0,
      createdAt: 0,
      updatedAt: 0,
    };
  });
}

export function dimensionFromDocument(doc: StoredDocument): LabelDimension {
  const body = doc.body as unknown as LabelDimensionBody;
  return { ...body, id: doc.id, builtIn: isBuiltInKey(doc.id), createdAt: doc.createdAt, updatedAt: doc.updatedAt };
}

export function dimensionToDocument(d: LabelDimension): StoredDocument {
  const body: LabelDimensionBody = {
    key: d.key,
    display_name: d.display_name,
    display_info: d.display_info,
    external_data_set: d.external_data_set,
    external_data_reference: d.external_data_reference,
    created_by: d.created_by,
    updated_by: d.updated_by,
  };
  return { id: d.id, body: body as unknown as Record<string, unknown>, createdAt: d.createdAt, updatedAt: d.updatedAt };
}

const iso = (ms: number) => new Date(ms).toISOString();
const userRef = (id: number) => (id > 0 ? { href: `/users/${id}` } : null);

/** The public JSON shape (Illumio's label dimension), with `usage` computed from the org's labels and label groups. */
export function labelDimensionToJson(orgId: number, d: LabelDimension, usage: { labels: boolean; label_groups: boolean }) {
  return {
    href: labelDimensionHref(orgId, d.id),
    key: d.key,
    display_name: d.display_name,
    display_info: d.display_info,
    usage,
    caps: d.builtIn ? ['write'] : usage.labels || usage.label_groups ? ['write'] : ['write', 'delete'],
    external_data_set: d.external_data_set,
    external_data_reference: d.external_data_reference,
    deleted: false,
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
    created_by: userRef(d.created_by),
    updated_by: userRef(d.updated_by),
    deleted_at: null,
    deleted_by: null,
  };
}
