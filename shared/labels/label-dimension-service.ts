/** Label dimension use cases (label-dimension.ts): reads on every PCE, writes on the leader. */
import { randomUUID } from 'node:crypto';
import { notFound, ValidationError } from '../api/errors.ts';
import { parseInput } from '../api/validation.ts';
import { leaderDocumentWrite, type DocumentStore } from '../documents/document-store.ts';
import type { LeaderView } from '../supercluster/leader.ts';
import {
  builtInDimensions,
  createLabelDimensionSchema,
  dimensionFromDocument,
  dimensionToDocument,
  isBuiltInKey,
  labelDimensionToJson,
  updateLabelDimensionSchema,
  type LabelDimension,
} from './label-dimension.ts';
import type { LabelStore } from './label.ts';

export interface LabelDimensionServiceDeps {
  readonly documents: DocumentStore;
  readonly leader: LeaderView;
  readonly labels: Pick<LabelStore, 'list'>;
  /** the keys of the org's draft label groups (usage, and a dimension in use is not deleted); none when absent */
  readonly labelGroupKeys?: (orgId: number) => Promise<ReadonlySet<string>>;
  readonly now?: () => number;
}

export interface LabelDimensionFilter {
  readonly key?: string;
  /** partial, case-insensitive */
  readonly displayName?: string;
  readonly externalDataSet?: string;
  readonly externalDataReference?: string;
}

interface Actor {
  readonly orgId: number;
  readonly userId: number;
}

const TOKENS = { claimTaken: 'label_dimension_key_taken', changed: 'label_dimension_conflict' } as const;
const claimOf = (key: string) => `KEY#${key.toLowerCase()}`;

export class LabelDimensionService {
  private readonly now: () => number;

  constructor(private readonly deps: LabelDimensionServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Built-ins (as changed, if they were) then custom dimensions in creation order. */
  async all(orgId: number): Promise<LabelDimension[]> {
    const stored = (await this.deps.documents.list(orgId)).map(dimensionFromDocument);
    const byId = new Map(stored.map((d) => [d.id, d]));
    const builtIns = builtInDimensions().map((d) => byId.get(d.id) ?? d);
    const custom = stored.filter((d) => !d.builtIn).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    return [...builtIns, ...custom];
  }

  /** Every label key the org accepts: the built-ins and its custom dimensions. */
  async keys(orgId: number): Promise<ReadonlySet<string>> {
    return new Set((await this.all(orgId)).map((d) => d.key));
  }

  async list(orgId: number, filter: LabelDimensionFilter, maxResults: number) {
    const usage = await this.usage(orgId);
    const all = (await this.all(orgId)).filter(
      (d) =>
        (filter.key === undefined || d.key === filter.key) &&
        (filter.displayName === undefined || d.display_name.toLowerCase().includes(filter.displayName.toLowerCase())) &&
        (filter.externalDataSet === undefined || d.external_data_set === filter.externalDataSet) &&
        (filter.externalDataReference === undefined || d.external_data_reference === filter.externalDataReference),
    );
    return { items: all.slice(0, maxResults).map((d) => labelDimensionToJson(orgId, d, usage(d.key))), total: all.length };
  }

  async getJson(orgId: number, id: string) {
    const d = await this.get(orgId, id);
    return labelDimensionToJson(orgId, d, (await this.usage(orgId))(d.key));
  }

  async create(actor: Actor, body: unknown) {
    const input = parseInput(createLabelDimensionSchema, body);
    if (isBuiltInKey(input.key.toLowerCase())) throw new ValidationError([{ token: TOKENS.claimTaken, message: `key: ${input.key} is a built-in label dimension` }]);
    const now = this.now();
    const dimension: LabelDimension = {
      id: randomUUID(),
      builtIn: false,
      key: input.key,
      display_name: input.display_name,
      display_info: input.display_info ?? {},
      external_data_set: input.external_data_set ?? null,
      external_data_reference: input.external_data_reference ?? null,
      created_by: actor.userId,
      updated_by: actor.userId,
      createdAt: now,
      updatedAt: now,
    };
    await leaderDocumentWrite(this.deps.leader, (fence) => this.deps.documents.put(actor.orgId, { next: dimensionToDocument(dimension), expectedUpdatedAt: null, claim: [claimOf(dimension.key)] }, fence), TOKENS);
    return labelDimensionToJson(actor.orgId, dimension, { labels: false, label_groups: false });
  }

  async update(actor: Actor, id: string, body: unknown): Promise<void> {
    const input = parseInput(updateLabelDimensionSchema, body);
    await leaderDocumentWrite(
      this.deps.leader,
      async (fence) => {
        const stored = await this.deps.documents.get(actor.orgId, id, { consistent: true });
        const current = stored ? dimensionFromDocument(stored) : builtInDimensions().find((d) => d.id === id);
        if (!current) throw notFound(`label dimension ${id}`);
        if (input.key !== undefined && input.key !== current.key) throw new ValidationError([{ token: 'label_dimension_key_immutable', message: `key: the key of a label dimension cannot change (it is ${current.key})` }]);
        const next: LabelDimension = {
          ...current,
          display_name: input.display_name ?? current.display_name,
          display_info: input.display_info === undefined ? current.display_info : (input.display_info ?? {}),
          external_data_set: input.external_data_set === undefined ? current.external_data_set : input.external_data_set,
          external_data_reference: input.external_data_reference === undefined ? current.external_data_reference : input.external_data_reference,
          updated_by: actor.userId,
          createdAt: stored ? current.createdAt : this.now(),
          updatedAt: Math.max(this.now(), current.updatedAt + 1),
        };
        await this.deps.documents.put(actor.orgId, { next: dimensionToDocument(next), expectedUpdatedAt: stored ? stored.updatedAt : null }, fence);
      },
      TOKENS,
    );
  }

  async delete(actor: Actor, id: string): Promise<void> {
    await leaderDocumentWrite(
      this.deps.leader,
      async (fence) => {
        const stored = await this.deps.documents.get(actor.orgId, id, { consistent: true });
        if (isBuiltInKey(id)) throw new ValidationError([{ token: 'label_dimension_read_only', message: `${id} is a built-in label dimension: it cannot be deleted` }]);
        if (!stored) throw notFound(`label dimension ${id}`);
        const d = dimensionFromDocument(stored);
        const use = (await this.usage(actor.orgId))(d.key);
        if (use.labels || use.label_groups) throw new ValidationError([{ token: 'label_dimension_in_use', message: `label dimension ${d.key} is still used by ${[use.labels ? 'labels' : '', use.label_groups ? 'label groups' : ''].filter(Boolean).join(' and ')}` }]);
        await this.deps.documents.delete(actor.orgId, stored, fence, [claimOf(d.key)]);
      },
      TOKENS,
    );
  }

  private async get(orgId: number, id: string): Promise<LabelDimension> {
    const d = (await this.all(orgId)).find((x) => x.id === id);
    if (!d) throw notFound(`label dimension ${id}`);
    return d;
  }

  private async usage(orgId: number): Promise<(key: string) => { labels: boolean; label_groups: boolean }> {
    const [labels, groupKeys] = await Promise.all([this.deps.labels.list(orgId), this.deps.labelGroupKeys ? this.deps.labelGroupKeys(orgId) : Promise.resolve(new Set<string>())]);
    const labelKeys = new Set(labels.map((l) => l.key));
    return (key) => ({ labels: labelKeys.has(key), label_groups: groupKeys.has(key) });
  }
}
