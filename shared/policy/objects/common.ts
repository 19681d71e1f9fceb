/**
 * What every versioned policy object shares: types, metadata, hrefs, and the small helpers the
 * per-type modules use to turn Illumio JSON into records (references by id, issues by field).
 */
import { z } from 'zod';
import type { ErrorEntry } from '../../api/errors.ts';
import { ValidationError } from '../../api/errors.ts';

export { externalRefs, pick, type ExternalRefs } from '../../api/partial-update.ts';

export const POLICY_OBJECT_TYPES = ['label_groups', 'services', 'ip_lists', 'rule_sets', 'enforcement_boundaries', 'virtual_services'] as const;
export type PolicyObjectType = (typeof POLICY_OBJECT_TYPES)[number];

/** draft: what people edit (leader writes); active: the provisioned version every PCE computes from. */
export type PolicyState = 'draft' | 'active';

export const OBJECT_NOUNS: Readonly<Record<PolicyObjectType, string>> = {
  label_groups: 'label group',
  services: 'service',
  ip_lists: 'IP list',
  rule_sets: 'rule set',
  enforcement_boundaries: 'enforcement boundary',
  virtual_services: 'virtual service',
};

/**
 * Virtual services have UUID hrefs in Illumio (the Terraform provider checks the form): their integer id is
 * shown as the UUID `00000000-0000-4000-8000-<id, 12 digits>` and read back from it; other types show the id.
 */
const UUID_ID_TYPES: ReadonlySet<PolicyObjectType> = new Set(['virtual_services']);
const ID_UUID = /^00000000-0000-4000-8000-(\d{12})$/i;

export function objectIdSegment(type: PolicyObjectType, id: number): string {
  return UUID_ID_TYPES.has(type) ? `00000000-0000-4000-8000-${String(id).padStart(12, '0')}` : String(id);
}

/** The id in a path segment or href of `type`; null when it is not of that type's form. */
export function parseObjectIdSegment(type: PolicyObjectType, raw: string): number | null {
  if (UUID_ID_TYPES.has(type)) {
    const m = ID_UUID.exec(raw);
    return m ? Number(m[1]) : null;
  }
  return /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

export interface ObjectMeta {
  readonly id: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly createdBy: number;
  readonly updatedBy: number;
}

/** Who acts, in which org (the authenticated caller). */
export interface PolicyActor {
  readonly userId: number;
  readonly orgId: number;
}

// ---- hrefs (without /api/v2) ----

export const policyObjectHref = (orgId: number, state: PolicyState, type: PolicyObjectType, id: number): string => `/orgs/${orgId}/sec_policy/${state}/${type}/${objectIdSegment(type, id)}`;
export const ruleHref = (orgId: number, state: PolicyState, ruleSetId: number, ruleId: number): string => `${policyObjectHref(orgId, state, 'rule_sets', ruleSetId)}/sec_rules/${ruleId}`;
export const workloadHref = (orgId: number, id: string): string => `/orgs/${orgId}/workloads/${id}`;
export const policyVersionHref = (orgId: number, version: number): string => `/orgs/${orgId}/sec_policy/${version}`;
export const userHref = (userId: number): { href: string } => ({ href: `/users/${userId}` });

/** A reference parsed from an href: which org it names and the object's id. */
export interface ParsedRef<Id extends number | string = number> {
  readonly orgId: number;
  readonly id: Id;
}

const ID = '(\\d{1,15})';
const UUID_ID = '(00000000-0000-4000-8000-\\d{12})';
const idPattern = (type: PolicyObjectType): string => (UUID_ID_TYPES.has(type) ? UUID_ID : ID);
const UUID = '([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})';

function hrefSchema<Id extends number | string>(pattern: RegExp, example: string, toId: (raw: string) => Id) {
  return z
    .string()
    .regex(pattern, `must be an href like ${example}`)
    .transform((href): ParsedRef<Id> => {
      const m = pattern.exec(href);
      return { orgId: Number(m?.[1]), id: toId(m?.[2] ?? '') };
    });
}

/** `{href}` of a label; other properties a client echoes back (key, value, name) are ignored. */
export const labelRefSchema = z.object({ href: hrefSchema(new RegExp(`^/orgs/${ID}/labels/${ID}$`), '/orgs/1/labels/42', Number) });

/** `{href}` of a draft or active policy object of `type`. */
export function objectRefSchema(type: PolicyObjectType) {
  return z.object({
    href: hrefSchema(new RegExp(`^/orgs/${ID}/sec_policy/(?:draft|active)/${type}/${idPattern(type)}$`, 'i'), `/orgs/1/sec_policy/draft/${type}/${objectIdSegment(type, 42)}`, (raw) => parseObjectIdSegment(type, raw) ?? 0),
  });
}

export const workloadRefSchema = z.object({
  href: hrefSchema(new RegExp(`^/orgs/${ID}/workloads/${UUID}$`), '/orgs/1/workloads/8d7f52b1-5b5e-4c8a-9a57-3f0d1c2e4b6a', (raw) => raw.toLowerCase()),
});

/** Any policy object href, with its type (change_subset entries). */
const ANY_OBJECT_HREF = new RegExp(`^/orgs/${ID}/sec_policy/(?:draft|active)/(${POLICY_OBJECT_TYPES.join('|')})/([0-9a-fA-F-]{1,36})$`);
export function parseObjectHref(href: string): { orgId: number; type: PolicyObjectType; id: number } | null {
  const m = ANY_OBJECT_HREF.exec(href);
  if (!m) return null;
  const type = m[2] as PolicyObjectType;
  const id = parseObjectIdSegment(type, m[3] ?? '');
  return id === null ? null : { orgId: Number(m[1]), type, id };
}

// ---- common fields ----

export const nameSchema = z.string().trim().min(1, 'must not be empty').max(255, 'must be at most 255 characters');
export const descriptionSchema = z.string().max(4096, 'must be at most 4096 characters').nullable();
export const externalField = z.string().max(255, 'must be at most 255 characters').nullable();

// ---- building records from input ----

/** Collects validation entries while a body is turned into a record; throws them all at once. */
export class Issues {
  readonly entries: ErrorEntry[] = [];

  add(token: string, message: string): void {
    this.entries.push({ token, message });
  }

  throwIfAny(): void {
    if (this.entries.length > 0) throw new ValidationError(this.entries);
  }
}

/** What a per-type builder needs: the org (hrefs must name it), an issue collector and, for rules, fresh ids. */
export interface BuildContext {
  readonly orgId: number;
  readonly issues: Issues;
  readonly allocateId: () => number;
}

/** The id of a reference, checking it names the caller's org. */
export function refId<Id extends number | string>(ref: ParsedRef<Id>, ctx: BuildContext, field: string): Id {
  if (ref.orgId !== ctx.orgId) ctx.issues.add('invalid_href', `${field}: the href names org ${ref.orgId}, not org ${ctx.orgId}`);
  return ref.id;
}

export function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

