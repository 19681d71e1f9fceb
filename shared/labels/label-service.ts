/** Label use cases: what the API does with labels, independent of HTTP and DynamoDB. */
import { notLeaderAfterFenceFailure, requireLeaderFence } from '../api/leader-fence.ts';
import { externalRefs } from '../api/partial-update.ts';
import { ValidationError, notFound } from '../api/errors.ts';
import { parseInput } from '../api/validation.ts';
import { FenceFailedError, type LeaderView, type WriteFence } from '../supercluster/leader.ts';
import {
  DuplicateLabelError,
  LABEL_KEYS,
  LabelChangedError,
  createLabelSchemaFor,
  matchesFilter,
  updateLabelSchema,
  type Label,
  type LabelFilter,
  type LabelStore,
} from './label.ts';

export interface Actor {
  readonly userId: number;
  readonly orgId: number;
}

export interface LabelServiceDeps {
  readonly labels: LabelStore;
  readonly leader: LeaderView;
  /** what still refers to a label (policy objects, workloads): names of the users, [] when unused */
  readonly usesOf?: (orgId: number, labelId: number) => Promise<string[]>;
  /** the label keys the org accepts (built-ins and label dimensions); absent: the built-in keys only */
  readonly keysOf?: (orgId: number) => Promise<ReadonlySet<string>>;
  readonly now?: () => number;
}

const CREATE_ATTEMPTS = 3;

export class LabelService {
  private readonly now: () => number;

  constructor(private readonly deps: LabelServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  async list(orgId: number, filter: LabelFilter, maxResults: number): Promise<{ items: Label[]; total: number }> {
    const all = (await this.deps.labels.list(orgId)).filter((l) => matchesFilter(l, filter)).sort((a, b) => a.id - b.id);
    return { items: all.slice(0, maxResults), total: all.length };
  }

  async get(orgId: number, id: number, options: { consistent?: boolean } = {}): Promise<Label> {
    const label = await this.deps.labels.get(orgId, id, options);
    if (!label) throw notFound(`label ${id}`);
    return label;
  }

  async create(actor: Actor, body: unknown): Promise<Label> {
    const known: ReadonlySet<string> = this.deps.keysOf ? await this.deps.keysOf(actor.orgId) : new Set(LABEL_KEYS);
    const input = parseInput(createLabelSchemaFor(known), body);
    for (let attempt = 1; ; attempt++) {
      const fence = await this.fence();
      try {
        return await this.deps.labels.create(
          {
            orgId: actor.orgId,
            key: input.key,
            value: input.value,
            ...externalRefs(input),
            userId: actor.userId,
            now: this.now(),
          },
          fence,
        );
      } catch (err) {
        if (err instanceof LabelChangedError && attempt < CREATE_ATTEMPTS) continue;
        throw await this.translate(err);
      }
    }
  }

  async update(actor: Actor, id: number, body: unknown): Promise<void> {
    const input = parseInput(updateLabelSchema, body);
    const fence = await this.fence();
    const current = await this.get(actor.orgId, id, { consistent: true });
    const next: Label = {
      ...current,
      value: input.value ?? current.value,
      ...externalRefs(input, current),
      updatedAt: Math.max(this.now(), current.updatedAt + 1),
      updatedBy: actor.userId,
    };
    try {
      await this.deps.labels.update(current, next, fence);
    } catch (err) {
      throw await this.translate(err);
    }
  }

  async delete(actor: Actor, id: number): Promise<void> {
    const fence = await this.fence();
    const label = await this.get(actor.orgId, id, { consistent: true });
    const uses = this.deps.usesOf ? await this.deps.usesOf(actor.orgId, id) : [];
    if (uses.length > 0) throw new ValidationError([{ token: 'label_in_use', message: `label ${id} (${label.key}=${label.value}) is still used by ${uses.join(' and ')}` }]);
    try {
      await this.deps.labels.delete(label, fence);
    } catch (err) {
      if (err instanceof LabelChangedError) throw notFound(`label ${id}`);
      throw await this.translate(err);
    }
  }

  private fence(): Promise<WriteFence> {
    return requireLeaderFence(this.deps.leader);
  }

  private async translate(err: unknown): Promise<unknown> {
    if (err instanceof FenceFailedError) return notLeaderAfterFenceFailure(this.deps.leader, err);
    if (err instanceof DuplicateLabelError) return new ValidationError([{ token: 'label_duplicate', message: err.message }], { cause: err });
    if (err instanceof LabelChangedError) return new ValidationError([{ token: 'label_conflict', message: err.message }], { cause: err });
    return err;
  }
}
