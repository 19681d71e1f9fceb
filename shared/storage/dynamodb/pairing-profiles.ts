/**
 * Pairing profiles (leader-written, fenced, stamped) and each PCE's pairing counts (one item per profile
 * and region, written only by that region's PCE) in the global table (shared/storage/ven-keys.ts).
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PairingProfileChangedError } from '../../pairing/errors.ts';
import { ENFORCEMENT_MODES } from '../../policy/model.ts';
import {
  PAIRING_LOCKS,
  PAIRING_PROFILE_DEFAULTS,
  UNLIMITED,
  VISIBILITY_LEVELS,
  type KeySetting,
  type PairingProfile,
  type PairingUseRecord,
} from '../../pairing/pairing-profile.ts';
import type { NewPairingProfile, PairingProfileStore, PairingUseStore } from '../../pairing/ports.ts';
import type { WriteFence } from '../../supercluster/leader.ts';
import { stamp } from '../keys.ts';
import { venKeys } from '../ven-keys.ts';
import { allocateObjectId, cancellationCodes, queryPartition, type DynamoDBDocumentClient } from './client.ts';
import { fencedTransactWrite } from './fenced-write.ts';
import { IDS_PER_EPOCH } from './labels.ts';

type Item = Record<string, unknown>;

const PROFILE_SK_PREFIX = 'PROFILE#';

const keySetting = (raw: unknown): KeySetting => (raw === UNLIMITED || raw === undefined || raw === null ? UNLIMITED : Number(raw));
const optionalString = (raw: unknown): string | null => (typeof raw === 'string' ? raw : null);

function toProfile(item: Item): PairingProfile {
  const locks = (item.locks ?? {}) as Item;
  return {
    orgId: Number(item.org_id),
    id: Number(item.id),
    name: String(item.name),
    description: String(item.description ?? ''),
    enabled: item.enabled === true,
    enforcementMode: ENFORCEMENT_MODES.find((m) => m === item.enforcement_mode) ?? PAIRING_PROFILE_DEFAULTS.enforcementMode,
    visibilityLevel: VISIBILITY_LEVELS.find((v) => v === item.visibility_level) ?? PAIRING_PROFILE_DEFAULTS.visibilityLevel,
    logTraffic: item.log_traffic === true,
    labels: Array.isArray(item.labels) ? item.labels.map(Number) : [],
    allowedUsesPerKey: keySetting(item.allowed_uses_per_key),
    keyLifespan: keySetting(item.key_lifespan),
    locks: Object.fromEntries(PAIRING_LOCKS.map((lock) => [lock, locks[lock] !== false])) as PairingProfile['locks'],
    agentSoftwareRelease: optionalString(item.agent_software_release),
    externalDataSet: optionalString(item.external_data_set),
    externalDataReference: optionalString(item.external_data_reference),
    createdAt: Number(item.created_at),
    updatedAt: Number(item.updated_at),
    createdBy: Number(item.created_by),
    updatedBy: Number(item.updated_by),
  };
}

function toItem(p: PairingProfile, region: string): Item {
  return {
    ...venKeys.pairingProfile(p.orgId, p.id),
    org_id: p.orgId,
    id: p.id,
    name: p.name,
    description: p.description,
    enabled: p.enabled,
    enforcement_mode: p.enforcementMode,
    visibility_level: p.visibilityLevel,
    log_traffic: p.logTraffic,
    labels: [...p.labels],
    allowed_uses_per_key: p.allowedUsesPerKey,
    key_lifespan: p.keyLifespan,
    locks: { ...p.locks },
    agent_software_release: p.agentSoftwareRelease,
    external_data_set: p.externalDataSet,
    external_data_reference: p.externalDataReference,
    created_at: p.createdAt,
    created_by: p.createdBy,
    updated_by: p.updatedBy,
    ...stamp(region, p.updatedAt),
  };
}

export class DynamoDbPairingProfileStore implements PairingProfileStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** the region this client talks to; stamped as origin_region on writes */
    private readonly region: string,
  ) {}

  async list(orgId: number): Promise<PairingProfile[]> {
    const items = await queryPartition(this.client, this.tableName, { pk: venKeys.pairingProfilePartition(orgId), skPrefix: PROFILE_SK_PREFIX });
    return items.map(toProfile);
  }

  async get(orgId: number, id: number, options: { consistent?: boolean } = {}): Promise<PairingProfile | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: venKeys.pairingProfile(orgId, id), ConsistentRead: options.consistent ?? false }));
    return out.Item ? toProfile(out.Item) : null;
  }

  async create(input: NewPairingProfile, fence: WriteFence): Promise<PairingProfile> {
    // an id of the leadership epoch's counter (as labels): an id whose write then fails is skipped
    const id = await allocateObjectId(this.client, this.tableName, { orgId: input.orgId, counter: 'PAIRING_PROFILE', epoch: fence.epoch, region: this.region, now: input.updatedAt, idsPerEpoch: IDS_PER_EPOCH });
    const profile: PairingProfile = { ...input, id };
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [
        { Put: { TableName: this.tableName, Item: toItem(profile, this.region), ConditionExpression: 'attribute_not_exists(pk)' } },
      ]);
      return profile;
    } catch (err) {
      if (cancellationCodes(err)?.[1] === 'ConditionalCheckFailed') throw new PairingProfileChangedError('pairing profile id already taken; retry', { cause: err });
      throw err;
    }
  }

  async update(current: PairingProfile, next: PairingProfile, fence: WriteFence): Promise<void> {
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [
        {
          Put: {
            TableName: this.tableName,
            Item: toItem(next, this.region),
            ConditionExpression: 'updated_at = :seen',
            ExpressionAttributeValues: { ':seen': current.updatedAt },
          },
        },
      ]);
    } catch (err) {
      if (cancellationCodes(err)?.[1] === 'ConditionalCheckFailed') throw new PairingProfileChangedError('the pairing profile changed while being updated', { cause: err });
      throw err;
    }
  }

  async delete(profile: PairingProfile, fence: WriteFence): Promise<void> {
    try {
      await fencedTransactWrite(this.client, this.tableName, fence, [
        { Delete: { TableName: this.tableName, Key: venKeys.pairingProfile(profile.orgId, profile.id), ConditionExpression: 'attribute_exists(pk)' } },
      ]);
    } catch (err) {
      if (cancellationCodes(err)?.[1] === 'ConditionalCheckFailed') throw new PairingProfileChangedError('the pairing profile was already deleted', { cause: err });
      throw err;
    }
  }
}

/** Attempts of a use-counter write whose stamp another write of the same millisecond took. */
const RECORD_ATTEMPTS = 5;

/**
 * This PCE's pairing counts. Each write moves `updated_at` strictly forward (the replication of an item is
 * last writer wins on it), so two pairings in the same millisecond both reach the other replicas.
 */
export class DynamoDbPairingUseStore implements PairingUseStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** this PCE's region: the only writer of its items */
    private readonly region: string,
  ) {}

  /** the last stamp this runtime wrote: its own writes never race each other for one */
  private lastStamp = 0;
  /** per profile: uses waiting for the next write, and the write in flight (concurrent pairings share one write) */
  private readonly pending = new Map<string, { uses: number; at: number; flushed: Promise<void> | null; waiters: { resolve: () => void; reject: (e: unknown) => void }[] }>();
  private readonly inFlight = new Map<string, Promise<void>>();

  /**
   * Counts one pairing. Pairings that arrive while a write of the same counter is in flight are added
   * together and written at once when it completes (a pairing storm costs a few writes, not one each).
   */
  record(orgId: number, profileId: number, at: number): Promise<void> {
    const key = `${orgId}#${profileId}`;
    let batch = this.pending.get(key);
    if (!batch) {
      batch = { uses: 0, at: 0, flushed: null, waiters: [] };
      this.pending.set(key, batch);
    }
    batch.uses++;
    batch.at = Math.max(batch.at, at);
    const done = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (!this.inFlight.has(key)) void this.flush(key, orgId, profileId);
    return done;
  }

  private async flush(key: string, orgId: number, profileId: number): Promise<void> {
    for (;;) {
      const batch = this.pending.get(key);
      if (!batch || batch.uses === 0) {
        this.inFlight.delete(key);
        return;
      }
      this.pending.delete(key);
      const write = this.write(orgId, profileId, batch.uses, batch.at);
      this.inFlight.set(key, write.catch(() => undefined));
      try {
        await write;
        batch.waiters.forEach((w) => w.resolve());
      } catch (err) {
        batch.waiters.forEach((w) => w.reject(err));
      }
    }
  }

  private async write(orgId: number, profileId: number, uses: number, at: number): Promise<void> {
    let stampAt = Math.max(at, this.lastStamp + 1);
    this.lastStamp = stampAt;
    let pairedAt = at;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: venKeys.pairingUses(orgId, profileId, this.region),
            UpdateExpression: 'ADD #uses :n SET org_id = :org, profile_id = :profile, #region = :region, last_pairing_at = :paired, origin_region = :region, updated_at = :stamp',
            ConditionExpression: 'attribute_not_exists(updated_at) OR updated_at < :stamp',
            ExpressionAttributeNames: { '#uses': 'uses', '#region': 'region' },
            ExpressionAttributeValues: { ':n': uses, ':org': orgId, ':profile': profileId, ':region': this.region, ':paired': pairedAt, ':stamp': stampAt },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return;
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException) || attempt >= RECORD_ATTEMPTS) throw err;
        const old = err.Item ? unmarshall(err.Item) : {};
        stampAt = Math.max(stampAt, Number(old.updated_at ?? 0) + 1, this.lastStamp + 1);
        this.lastStamp = stampAt;
        pairedAt = Math.max(pairedAt, Number(old.last_pairing_at ?? 0));
      }
    }
  }

  async list(orgId: number, profileId?: number): Promise<PairingUseRecord[]> {
    const prefix = profileId === undefined ? undefined : venKeys.pairingUses(orgId, profileId, '').sk;
    const items = await queryPartition(this.client, this.tableName, { pk: venKeys.pairingUsesPartition(orgId), ...(prefix === undefined ? {} : { skPrefix: prefix }) });
    return items.map((item) => ({
      profileId: Number(item.profile_id),
      region: String(item.region),
      uses: Number(item.uses ?? 0),
      lastPairingAt: typeof item.last_pairing_at === 'number' ? item.last_pairing_at : null,
    }));
  }
}
