/**
 * The org's firewall settings (`/orgs/{org}/sec_policy/draft/firewall_settings`), as the Terraform provider's
 * `illumio-core_firewall_settings` resource reads and updates them (GET, then PUT of the href): the IKE
 * authentication type, firewall coexistence and the scope lists (static policy, containers inheriting host
 * policy, loopback interfaces in policy, blocked-connection reject). One leader-written document per org in the
 * global table (shared/documents: fenced, stamped, optimistic); readable on every PCE.
 *
 * Not provisioned here: a PUT takes effect at once and `.../active/firewall_settings` answers the same
 * document (Illumio versions it with the policy); none of these settings changes the rules this product
 * compiles, so there is nothing for a provision to carry yet (docs/illumio-clients-policy.md).
 */
import { z } from 'zod';
import { ValidationError } from '../../api/errors.ts';
import { parseInput } from '../../api/validation.ts';
import { leaderDocumentWrite, type DocumentStore, type StoredDocument } from '../../documents/document-store.ts';
import type { LabelStore } from '../../labels/label.ts';
import type { LeaderView } from '../../supercluster/leader.ts';

export const FIREWALL_SETTINGS_FAMILY = 'FIREWALL_SETTINGS';
const DOCUMENT_ID = 'firewall_settings';
const TOKENS = { claimTaken: 'firewall_settings_conflict', changed: 'firewall_settings_conflict' } as const;

export const SCOPE_LISTS = ['static_policy_scopes', 'containers_inherit_host_policy_scopes', 'loopback_interfaces_in_policy_scopes', 'blocked_connection_reject_scopes'] as const;
type ScopeList = (typeof SCOPE_LISTS)[number];
const SETTINGS = ['ike_authentication_type', 'firewall_coexistence', ...SCOPE_LISTS] as const;
/** Scopes per list and labels per scope (the provider allows at most 4 labels or label groups per scope). */
export const MAX_SCOPES = 100;
export const MAX_SCOPE_ITEMS = 4;

const href = z.strictObject({ href: z.string().max(256) });
const scopeItem = z.union([z.strictObject({ label: href }), z.strictObject({ label_group: href })]);
const scope = z.array(scopeItem).max(MAX_SCOPE_ITEMS);
const scopes = z.array(scope).max(MAX_SCOPES);
const coexistence = z.strictObject({
  illumio_primary: z.boolean(),
  scope: z.array(href).max(MAX_SCOPE_ITEMS),
  workload_mode: z.enum(['enforced', 'illuminated']).optional(),
});

/** What a PUT may carry: the settings, plus the read-only fields a client sends back from its GET (ignored). */
const updateSchema = z.strictObject({
  ike_authentication_type: z.enum(['psk', 'certificate']).optional(),
  firewall_coexistence: z.array(coexistence).max(MAX_SCOPES).nullable().optional(),
  static_policy_scopes: scopes.nullable().optional(),
  containers_inherit_host_policy_scopes: scopes.nullable().optional(),
  loopback_interfaces_in_policy_scopes: scopes.nullable().optional(),
  blocked_connection_reject_scopes: scopes.nullable().optional(),
  href: z.string().optional(),
  update_type: z.unknown().optional(),
  created_at: z.unknown().optional(),
  updated_at: z.unknown().optional(),
  deleted_at: z.unknown().optional(),
  created_by: z.unknown().optional(),
  updated_by: z.unknown().optional(),
  deleted_by: z.unknown().optional(),
});
type Update = z.infer<typeof updateSchema>;
type Scopes = z.infer<typeof scopes>;
type Coexistence = z.infer<typeof coexistence>;

export interface FirewallSettings {
  readonly ike_authentication_type: 'psk' | 'certificate';
  readonly firewall_coexistence: readonly Coexistence[];
  readonly static_policy_scopes: Scopes;
  readonly containers_inherit_host_policy_scopes: Scopes;
  readonly loopback_interfaces_in_policy_scopes: Scopes;
  readonly blocked_connection_reject_scopes: Scopes;
  readonly updatedBy: number | null;
  readonly createdAt: number | null;
  readonly updatedAt: number | null;
}

/** An org's settings before any PUT (Illumio's defaults). */
export const DEFAULT_FIREWALL_SETTINGS: FirewallSettings = {
  ike_authentication_type: 'psk',
  firewall_coexistence: [],
  static_policy_scopes: [],
  containers_inherit_host_policy_scopes: [],
  loopback_interfaces_in_policy_scopes: [],
  blocked_connection_reject_scopes: [],
  updatedBy: null,
  createdAt: null,
  updatedAt: null,
};

export const firewallSettingsHref = (orgId: number, state: 'draft' | 'active' = 'draft') => `/orgs/${orgId}/sec_policy/${state}/firewall_settings`;

export function firewallSettingsToJson(orgId: number, s: FirewallSettings, state: 'draft' | 'active' = 'draft') {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    href: firewallSettingsHref(orgId, state),
    update_type: null,
    ike_authentication_type: s.ike_authentication_type,
    firewall_coexistence: s.firewall_coexistence,
    static_policy_scopes: s.static_policy_scopes,
    containers_inherit_host_policy_scopes: s.containers_inherit_host_policy_scopes,
    loopback_interfaces_in_policy_scopes: s.loopback_interfaces_in_policy_scopes,
    blocked_connection_reject_scopes: s.blocked_connection_reject_scopes,
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
    deleted_at: null,
    created_by: null,
    updated_by: s.updatedBy === null ? null : { href: `/users/${s.updatedBy}` },
    deleted_by: null,
  };
}

function fromDocument(doc: StoredDocument): FirewallSettings {
  return { ...DEFAULT_FIREWALL_SETTINGS, ...(doc.body as Partial<FirewallSettings>), createdAt: doc.createdAt, updatedAt: doc.updatedAt };
}

export interface FirewallSettingsServiceDeps {
  readonly documents: DocumentStore;
  readonly leader: LeaderView;
  readonly labels: Pick<LabelStore, 'getMany'>;
  /** whether the org has a draft label group of that id (scopes may name label groups) */
  readonly labelGroupExists: (orgId: number, id: number) => Promise<boolean>;
  readonly now?: () => number;
}

export class FirewallSettingsService {
  private readonly now: () => number;

  constructor(private readonly deps: FirewallSettingsServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  async get(orgId: number): Promise<FirewallSettings> {
    const doc = await this.deps.documents.get(orgId, DOCUMENT_ID);
    return doc ? fromDocument(doc) : DEFAULT_FIREWALL_SETTINGS;
  }

  /** PUT: replaces the settings given (the others stay); 406 for a bad field or a scope naming no label / label group of the org. */
  async update(actor: { orgId: number; userId: number }, body: unknown): Promise<void> {
    const input = parseInput(updateSchema, body);
    if (!SETTINGS.some((field) => input[field] !== undefined)) {
      throw new ValidationError([{ token: 'input_validation_error', message: `the body names no setting: give at least one of ${SETTINGS.join(', ')}` }]);
    }
    await this.checkScopes(actor.orgId, input);
    await leaderDocumentWrite(
      this.deps.leader,
      async (fence) => {
        const stored = await this.deps.documents.get(actor.orgId, DOCUMENT_ID, { consistent: true });
        const current = stored ? fromDocument(stored) : DEFAULT_FIREWALL_SETTINGS;
        const now = Math.max(this.now(), (current.updatedAt ?? 0) + 1);
        const body: Record<string, unknown> = {
          ike_authentication_type: input.ike_authentication_type ?? current.ike_authentication_type,
          firewall_coexistence: input.firewall_coexistence === undefined ? current.firewall_coexistence : (input.firewall_coexistence ?? []),
          updatedBy: actor.userId,
        };
        for (const list of SCOPE_LISTS) body[list] = input[list] === undefined ? current[list] : (input[list] ?? []);
        await this.deps.documents.put(actor.orgId, { next: { id: DOCUMENT_ID, body, createdAt: stored?.createdAt ?? now, updatedAt: now }, expectedUpdatedAt: stored ? stored.updatedAt : null }, fence);
      },
      TOKENS,
    );
  }

  private async checkScopes(orgId: number, input: Update): Promise<void> {
    const labelIds = new Map<number, string>();
    const groupIds = new Map<number, string>();
    const problems: { token: string; message: string }[] = [];
    const take = (field: string, h: string, kind: 'label' | 'label_group') => {
      const m = kind === 'label' ? /^\/orgs\/(\d+)\/labels\/(\d+)$/.exec(h) : /^\/orgs\/(\d+)\/sec_policy\/draft\/label_groups\/(\d+)$/.exec(h);
      if (!m || Number(m[1]) !== orgId) problems.push({ token: 'invalid_uri', message: `${field}: ${h.slice(0, 100)} is not a ${kind.replace('_', ' ')} href of org ${orgId}` });
      else (kind === 'label' ? labelIds : groupIds).set(Number(m[2]), `${field}: ${h}`);
    };
    for (const list of SCOPE_LISTS as readonly ScopeList[]) {
      for (const s of input[list] ?? []) {
        for (const item of s) {
          if ('label' in item) take(list, item.label.href, 'label');
          else take(list, item.label_group.href, 'label_group');
        }
      }
    }
    for (const c of input.firewall_coexistence ?? []) for (const h of c.scope) take('firewall_coexistence.scope', h.href, 'label');
    if (problems.length === 0) {
      const found = new Set((await this.deps.labels.getMany(orgId, [...labelIds.keys()])).map((l) => l.id));
      for (const [id, where] of labelIds) if (!found.has(id)) problems.push({ token: 'label_not_found', message: `${where} is not a label of the org` });
      const groups = [...groupIds];
      const exists = await Promise.all(groups.map(([id]) => this.deps.labelGroupExists(orgId, id)));
      groups.forEach(([, where], i) => {
        if (!exists[i]) problems.push({ token: 'label_group_not_found', message: `${where} is not a draft label group of the org` });
      });
    }
    if (problems.length > 0) throw new ValidationError(problems);
  }
}
