/**
 * Emulates DynamoDB global-table replication between the regions' `global` tables in DynamoDB Local
 * (one database per region). For each region it reads the table's stream (stream-reader.ts) and applies
 * every change made by that region's clients to every other region, one FIFO queue per directed link.
 *
 * - Last writer wins per item: the newer (updated_at, origin_region) pair wins, enforced by a
 *   ConditionExpression in the target, so re-applying, replaying or reordering changes is harmless.
 * - Echo suppression: INSERT/MODIFY is forwarded only when NewImage.origin_region is the stream's region
 *   (the replicator's own writes carry the source's origin); a REMOVE is forwarded unless the replicator
 *   itself just deleted that key in that region.
 * - Deletes replicate: the target's item is deleted unless it holds a newer version than the deleted one.
 * - pause()/resume() simulate a network partition: the streams are still read, changes queue up per link
 *   and are applied in order once the link is resumed. Transient errors are retried with backoff; a change
 *   is only dropped when DynamoDB rejects it as invalid.
 * - Replication lag (applied_at - updated_at) is measured per directed pair over a bounded window.
 * - With a checkpoint store, a restart resumes each stream after the last record that every link has
 *   applied (or skipped), instead of replaying the whole stream; a crash replays, it never loses.
 *
 * Items without a numeric `updated_at` and a string `origin_region` are not replicated (reported as
 * "unstamped"): every global-table item must carry both (ARCHITECTURE.md, "Data: two tables").
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GLOBAL_TABLE, globalTableName } from '../../shared/storage/tables.ts';
import type { SuperclusterConfig } from '../../shared/supercluster/config.ts';
import { percentile } from '../../shared/runtime/stats.ts';
import { dynamoDbClient, dynamoDbStreamsClient } from './clients.ts';
import { Notifier, backoffMs, errorMessage, errorName, isAbortError, sleep } from './internal.ts';
import { readTableStream, type CheckpointStore, type StreamBatch, type StreamReader } from './stream-reader.ts';

export const ORIGIN_ATTRIBUTE = 'origin_region';
export const UPDATED_AT_ATTRIBUTE = 'updated_at';

/** How long the replicator remembers its own deletes in a region, to recognise their REMOVE records. */
const OWN_DELETE_TTL_MS = 5 * 60_000;

export interface ReplicatorEvent {
  readonly level: 'warn' | 'error';
  readonly message: string;
  readonly region?: string;
  readonly error?: Error;
}

export interface ReplicatorOptions {
  /** DynamoDB Local endpoint (one server, a database per region). */
  readonly endpoint: string;
  readonly regions: readonly string[];
  /** The global table's name (the same in every region). */
  readonly tableName: string;
  /** Partition key attribute of the table (default from GLOBAL_TABLE). */
  readonly partitionKey?: string;
  /** Idle pause between stream polls (default 50 ms). */
  readonly pollIntervalMs?: number;
  /** Changes (to distinct items) a link applies at once (default 8). */
  readonly linkConcurrency?: number;
  /** Lag samples kept per pair (default 1024). */
  readonly lagWindowSize?: number;
  /** How long start() waits for every region's stream (default 30 s). */
  readonly startTimeoutMs?: number;
  /** Builds the clients of a region (default: dummy-credential clients on `endpoint`); for fault injection in tests. */
  readonly clients?: (region: string) => { readonly dynamodb: DynamoDBClient; readonly streams: DynamoDBStreamsClient };
  /** Warnings and errors (default: console). */
  readonly onEvent?: (event: ReplicatorEvent) => void;
  /** Resume each region's stream across restarts (see fileCheckpointStore); flushed on stop(). */
  readonly checkpoints?: CheckpointStore;
}

export interface ReplicationPairStats {
  readonly source: string;
  readonly target: string;
  /** Changes applied in the target (puts and deletes). */
  readonly count: number;
  /** Lag (applied_at - updated_at, ms) of applied puts over the last `lagWindowSize` samples; null before the first. */
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly max_ms: number | null;
  /** Epoch ms of the last applied change, null if none yet. */
  readonly last_applied_at: number | null;
  /** Changes queued (paused link, or in flight). */
  readonly pending: number;
  readonly paused: boolean;
  /** Changes the target ignored because it already held a newer version. */
  readonly skipped_stale: number;
  /** Applied deletes (included in count). */
  readonly deletes: number;
  /** Retried attempts after transient errors. */
  readonly retries: number;
  /** Changes dropped because DynamoDB rejected them as invalid. */
  readonly dropped: number;
  readonly last_error: string | null;
}

export interface RegionStreamStats {
  readonly region: string;
  readonly stream_arn: string | null;
  readonly records_read: number;
  /** Changes made in this region and queued to the other regions. */
  readonly forwarded: number;
  /** Records caused by the replicator itself (not forwarded). */
  readonly echoes: number;
  /** Records of items without updated_at/origin_region (not replicated). */
  readonly unstamped: number;
  /** Start of the last stream poll that found nothing new (epoch ms, 0 = never). */
  readonly caught_up_at: number;
}

export interface ReplicatorStatus {
  readonly running: boolean;
  readonly regions: readonly string[];
  /** Every paused directed link. */
  readonly paused_links: readonly { readonly source: string; readonly target: string }[];
  readonly isolated_regions: readonly string[];
  readonly all_paused: boolean;
  readonly pairs: readonly ReplicationPairStats[];
  readonly streams: readonly RegionStreamStats[];
}

type Item = Record<string, AttributeValue>;

/** One delivered stream batch: its last sequence number may be checkpointed once `remaining` link applications are done. */
interface Ticket {
  readonly shardKey: string;
  readonly streamArn: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  remaining: number;
}

interface Change {
  readonly kind: 'put' | 'delete';
  readonly key: Item;
  readonly keyString: string;
  /** The full new image (put only). */
  readonly item: Item | undefined;
  /** The version written (put) or deleted (delete). */
  readonly updatedAt: number;
  readonly origin: string;
  /** Shared by every link the change is queued on (only with a checkpoint store). */
  readonly ticket: Ticket | undefined;
}

interface Stamp {
  readonly updatedAt: number;
  readonly origin: string;
}

function stampOf(image: Item | undefined): Stamp | undefined {
  const updated = image?.[UPDATED_AT_ATTRIBUTE]?.N;
  const origin = image?.[ORIGIN_ATTRIBUTE]?.S;
  const updatedAt = updated === undefined ? Number.NaN : Number(updated);
  if (!Number.isFinite(updatedAt) || !origin) return undefined;
  return { updatedAt, origin };
}

function canonicalKey(key: Item): string {
  return JSON.stringify(Object.entries(key).sort(([a], [b]) => a.localeCompare(b)));
}

/** Bounded ring of lag samples. */
class LagWindow {
  readonly #samples: number[] = [];
  #next = 0;
  constructor(readonly size: number) {}

  add(ms: number): void {
    if (this.#samples.length < this.size) this.#samples.push(ms);
    else this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % this.size;
  }

  summary(): { p50: number | null; p99: number | null; max: number | null } {
    if (this.#samples.length === 0) return { p50: null, p99: null, max: null };
    const sorted = [...this.#samples].sort((a, b) => a - b);
    return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? null };
  }
}

/** FIFO with O(1) amortised dequeue. */
class ChangeQueue {
  #items: Change[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }
  push(change: Change): void {
    this.#items.push(change);
  }
  /** The leading changes (at most `max`) that all touch different items: safe to apply concurrently. */
  peekDistinct(max: number): Change[] {
    const out: Change[] = [];
    const keys = new Set<string>();
    for (let i = this.#head; i < this.#items.length && out.length < max; i++) {
      const change = this.#items[i];
      if (!change || keys.has(change.keyString)) break;
      keys.add(change.keyString);
      out.push(change);
    }
    return out;
  }
  shift(count = 1): void {
    this.#head = Math.min(this.#items.length, this.#head + count);
    if (this.#head > 1_024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

class Link {
  readonly queue = new ChangeQueue();
  readonly wake = new Notifier();
  readonly lag: LagWindow;
  count = 0;
  deletes = 0;
  skippedStale = 0;
  retries = 0;
  dropped = 0;
  lastAppliedAt: number | null = null;
  lastError: string | null = null;
  manuallyPaused = false;

  constructor(
    readonly source: string,
    readonly target: string,
    lagWindowSize: number,
  ) {
    this.lag = new LagWindow(lagWindowSize);
  }
}

interface RegionState {
  readonly region: string;
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  /** canonical key -> [expiry, count] of deletes the replicator issued in this region. */
  readonly ownDeletes: Map<string, { expiresAt: number; count: number }>;
  reader: StreamReader | undefined;
  streamArn: string | null;
  recordsRead: number;
  forwarded: number;
  echoes: number;
  unstamped: number;
}

export class GlobalTableReplicator {
  readonly #options: ReplicatorOptions;
  readonly #partitionKey: string;
  readonly #regions = new Map<string, RegionState>();
  readonly #links: Link[] = [];
  readonly #abort = new AbortController();
  readonly #isolated = new Set<string>();
  /** Per shard, the delivered batches not yet checkpointed, in stream order. */
  readonly #tickets = new Map<string, Ticket[]>();
  #allPaused = false;
  #state: 'new' | 'running' | 'stopped' = 'new';
  #workers: Promise<void>[] = [];
  #ownsClients: boolean;

  constructor(options: ReplicatorOptions) {
    const regions = [...new Set(options.regions)];
    if (regions.length < 2) throw new Error(`GlobalTableReplicator needs at least 2 regions (got ${regions.join(', ') || 'none'})`);
    this.#options = options;
    this.#partitionKey = options.partitionKey ?? GLOBAL_TABLE.partitionKey.name;
    this.#ownsClients = !options.clients;
    for (const region of regions) {
      const clients = options.clients?.(region) ?? {
        dynamodb: dynamoDbClient(options.endpoint, region),
        streams: dynamoDbStreamsClient(options.endpoint, region),
      };
      this.#regions.set(region, {
        region,
        ...clients,
        ownDeletes: new Map(),
        reader: undefined,
        streamArn: null,
        recordsRead: 0,
        forwarded: 0,
        echoes: 0,
        unstamped: 0,
      });
    }
    for (const source of regions) {
      for (const target of regions) {
        if (source !== target) this.#links.push(new Link(source, target, Math.max(1, options.lagWindowSize ?? 1_024)));
      }
    }
  }

  /** A replicator for every PCE region of `config`, on its global table. */
  static forSupercluster(
    endpoint: string,
    config: Pick<SuperclusterConfig, 'name' | 'pces'>,
    options: Omit<ReplicatorOptions, 'endpoint' | 'regions' | 'tableName'> = {},
  ): GlobalTableReplicator {
    return new GlobalTableReplicator({ ...options, endpoint, regions: config.pces.map((p) => p.region), tableName: globalTableName(config) });
  }

  get regions(): readonly string[] {
    return [...this.#regions.keys()];
  }

  /** Starts reading every region's stream; resolves once all streams were found (throws if one is missing after startTimeoutMs). */
  async start(): Promise<void> {
    if (this.#state === 'running') return;
    if (this.#state === 'stopped') throw new Error('GlobalTableReplicator: cannot restart a stopped replicator; create a new one');
    this.#state = 'running';
    const stored = this.#options.checkpoints;
    // The reader checkpoints a batch as soon as onBatch() resolves, i.e. once it is merely queued: it only
    // reads the checkpoints here, #settle() writes them when every link has applied the batch.
    const checkpoints: CheckpointStore | undefined = stored && { get: (streamArn, shardId) => stored.get(streamArn, shardId), set: () => undefined };
    for (const state of this.#regions.values()) {
      state.reader = readTableStream({
        client: state.streams,
        tableName: this.#options.tableName,
        startingPosition: 'TRIM_HORIZON',
        checkpoints,
        pollIntervalMs: this.#options.pollIntervalMs ?? 50,
        onBatch: async (batch) => this.#ingest(state, batch),
        onError: (error) => this.#emit({ level: 'warn', message: error.message, region: state.region, error }),
      });
    }
    this.#workers = this.#links.map((link) => this.#runLink(link));

    const timeoutMs = this.#options.startTimeoutMs ?? 30_000;
    const found = await Promise.all(
      [...this.#regions.values()].map(async (state) => {
        const arn = await Promise.race([state.reader?.ready.catch(() => undefined), sleep(timeoutMs, this.#abort.signal).then(() => undefined)]);
        state.streamArn = arn ?? null;
        return arn ? undefined : state.region;
      }),
    );
    const missing = found.filter((r): r is string => r !== undefined);
    if (missing.length > 0) {
      await this.stop();
      throw new Error(
        `GlobalTableReplicator: no stream for table ${this.#options.tableName} in ${missing.join(', ')} after ${timeoutMs} ms (run ensureTables first; the table needs a NEW_AND_OLD_IMAGES stream)`,
      );
    }
  }

  /** Stops polling and applying. Queued changes are abandoned (and not checkpointed: a restart replays them). Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#abort.abort();
    for (const link of this.#links) link.wake.notify();
    await Promise.all([...this.#regions.values()].map((s) => s.reader?.stop()));
    await Promise.all(this.#workers);
    this.#options.checkpoints?.flush?.();
    if (this.#ownsClients) {
      for (const state of this.#regions.values()) {
        state.dynamodb.destroy();
        state.streams.destroy();
      }
    }
  }

  /**
   * Simulates a partition. Without arguments every link stops delivering; with regions, every link to or
   * from those regions (the regions are isolated). Changes keep queuing and are applied on resume.
   */
  pause(regions?: readonly string[]): void {
    if (!regions) this.#allPaused = true;
    else for (const region of this.#checkRegions(regions)) this.#isolated.add(region);
  }

  /** Heals the partition: without arguments everything resumes; with regions, those regions are no longer isolated. */
  resume(regions?: readonly string[]): void {
    if (!regions) {
      this.#allPaused = false;
      this.#isolated.clear();
      for (const link of this.#links) link.manuallyPaused = false;
    } else {
      for (const region of this.#checkRegions(regions)) this.#isolated.delete(region);
    }
    for (const link of this.#links) link.wake.notify();
  }

  /** Pauses or resumes one direction only (asymmetric partition). resume() without arguments also clears these. */
  setLinkPaused(source: string, target: string, paused: boolean): void {
    const link = this.#links.find((l) => l.source === source && l.target === target);
    if (!link) throw new Error(`no replication link ${source} -> ${target} (regions: ${this.regions.join(', ')})`);
    link.manuallyPaused = paused;
    link.wake.notify();
  }

  isPaused(source: string, target: string): boolean {
    const link = this.#links.find((l) => l.source === source && l.target === target);
    return link ? this.#linkPaused(link) : false;
  }

  /** Per directed pair: applied count, lag percentiles over the window, last applied time, backlog. */
  stats(): ReplicationPairStats[] {
    return this.#links.map((link) => {
      const lag = link.lag.summary();
      return {
        source: link.source,
        target: link.target,
        count: link.count,
        p50_ms: lag.p50,
        p99_ms: lag.p99,
        max_ms: lag.max,
        last_applied_at: link.lastAppliedAt,
        pending: link.queue.length,
        paused: this.#linkPaused(link),
        skipped_stale: link.skippedStale,
        deletes: link.deletes,
        retries: link.retries,
        dropped: link.dropped,
        last_error: link.lastError,
      };
    });
  }

  /** Everything an operator (or an HTTP control endpoint) wants to see. */
  status(): ReplicatorStatus {
    return {
      running: this.#state === 'running',
      regions: this.regions,
      paused_links: this.#links.filter((l) => this.#linkPaused(l)).map((l) => ({ source: l.source, target: l.target })),
      isolated_regions: [...this.#isolated],
      all_paused: this.#allPaused,
      pairs: this.stats(),
      streams: [...this.#regions.values()].map((s) => ({
        region: s.region,
        stream_arn: s.streamArn,
        records_read: s.recordsRead,
        forwarded: s.forwarded,
        echoes: s.echoes,
        unstamped: s.unstamped,
        caught_up_at: s.reader?.caughtUpAt() ?? 0,
      })),
    };
  }

  /**
   * Resolves once every change written before the call has been read from the streams and applied over
   * every link that is not paused. Rejects after timeoutMs (default 10 s) naming what is still pending.
   */
  async waitForIdle(timeoutMs = 10_000): Promise<void> {
    if (this.#state !== 'running') throw new Error('GlobalTableReplicator.waitForIdle: replicator is not running');
    const since = Date.now();
    const deadline = since + timeoutMs;
    for (;;) {
      if (this.#state !== 'running') throw new Error('GlobalTableReplicator.waitForIdle: replicator stopped while waiting');
      const lagging = [...this.#regions.values()].filter((s) => (s.reader?.caughtUpAt() ?? 0) < since).map((s) => s.region);
      const busy = this.#links.filter((l) => !this.#linkPaused(l) && l.queue.length > 0);
      if (lagging.length === 0 && busy.length === 0) return;
      if (Date.now() > deadline) {
        const parts = [
          lagging.length ? `streams not caught up: ${lagging.join(', ')}` : '',
          busy.length ? `pending: ${busy.map((l) => `${l.source}->${l.target}=${l.queue.length}${l.lastError ? ` (${l.lastError})` : ''}`).join(', ')}` : '',
        ];
        throw new Error(`replicator not idle after ${timeoutMs} ms; ${parts.filter(Boolean).join('; ')}`);
      }
      await sleep(10, this.#abort.signal);
    }
  }

  #checkRegions(regions: readonly string[]): readonly string[] {
    for (const region of regions) {
      if (!this.#regions.has(region)) throw new Error(`unknown region ${region} (replicated regions: ${this.regions.join(', ')})`);
    }
    return regions;
  }

  #linkPaused(link: Link): boolean {
    return this.#allPaused || link.manuallyPaused || this.#isolated.has(link.source) || this.#isolated.has(link.target);
  }

  #emit(event: ReplicatorEvent): void {
    if (this.#options.onEvent) {
      try {
        this.#options.onEvent(event);
      } catch {
        // never let a listener break replication
      }
      return;
    }
    const line = `[replicator${event.region ? ` ${event.region}` : ''}] ${event.message}`;
    if (event.level === 'error') console.error(line);
    else console.warn(line);
  }

  #ingest(state: RegionState, batch: StreamBatch): void {
    const now = Date.now();
    const sequenceNumber = batch.records.at(-1)?.dynamodb?.SequenceNumber;
    const shardKey = `${batch.streamArn}#${batch.shardId}`;
    const ticket: Ticket | undefined =
      this.#options.checkpoints && sequenceNumber ? { shardKey, streamArn: batch.streamArn, shardId: batch.shardId, sequenceNumber, remaining: 0 } : undefined;
    for (const record of batch.records) {
      state.recordsRead++;
      const data = record.dynamodb;
      const keys = data?.Keys;
      if (!keys) continue;
      const keyString = canonicalKey(keys);
      if (record.eventName === 'REMOVE') {
        if (this.#consumeOwnDelete(state, keyString, now)) {
          state.echoes++;
          continue;
        }
        const stamp = stampOf(data.OldImage);
        if (!stamp) {
          this.#unstamped(state, keyString);
          continue;
        }
        this.#enqueue(state, { kind: 'delete', key: keys, keyString, item: undefined, updatedAt: stamp.updatedAt, origin: stamp.origin, ticket });
      } else if (record.eventName === 'INSERT' || record.eventName === 'MODIFY') {
        const image = data.NewImage;
        const stamp = stampOf(image);
        if (!image || !stamp) {
          this.#unstamped(state, keyString);
          continue;
        }
        if (stamp.origin !== state.region) {
          state.echoes++; // written by the replicator (or it claims another writer region): not this region's change
          continue;
        }
        this.#enqueue(state, { kind: 'put', key: keys, keyString, item: image, updatedAt: stamp.updatedAt, origin: stamp.origin, ticket });
      }
    }
    if (!ticket) return;
    const pending = this.#tickets.get(shardKey);
    if (pending) pending.push(ticket);
    else this.#tickets.set(shardKey, [ticket]);
    this.#advanceCheckpoint(shardKey); // a batch of echoes only is done already
  }

  /** One link is done with `change` (applied, skipped as stale or dropped as invalid). */
  #settle(change: Change): void {
    const ticket = change.ticket;
    if (!ticket) return;
    ticket.remaining--;
    if (ticket.remaining === 0) this.#advanceCheckpoint(ticket.shardKey);
  }

  /** Checkpoints the shard after its longest run of finished batches; an unfinished (e.g. paused) batch holds back all later ones. */
  #advanceCheckpoint(shardKey: string): void {
    const pending = this.#tickets.get(shardKey);
    let done: Ticket | undefined;
    while (pending?.[0] && pending[0].remaining <= 0) done = pending.shift();
    if (pending?.length === 0) this.#tickets.delete(shardKey);
    if (done) this.#options.checkpoints?.set(done.streamArn, done.shardId, done.sequenceNumber);
  }

  #enqueue(state: RegionState, change: Change): void {
    state.forwarded++;
    for (const link of this.#links) {
      if (link.source !== state.region) continue;
      if (change.ticket) change.ticket.remaining++;
      link.queue.push(change);
      link.wake.notify();
    }
  }

  #unstamped(state: RegionState, keyString: string): void {
    state.unstamped++;
    if (state.unstamped === 1 || state.unstamped % 100 === 0) {
      this.#emit({
        level: 'warn',
        region: state.region,
        message: `not replicating item ${keyString}: global-table items need a numeric ${UPDATED_AT_ATTRIBUTE} and a string ${ORIGIN_ATTRIBUTE} (${state.unstamped} such records so far)`,
      });
    }
  }

  #rememberOwnDelete(state: RegionState, keyString: string): void {
    const entry = state.ownDeletes.get(keyString);
    state.ownDeletes.set(keyString, { expiresAt: Date.now() + OWN_DELETE_TTL_MS, count: (entry?.count ?? 0) + 1 });
  }

  #forgetOwnDelete(state: RegionState, keyString: string): void {
    const entry = state.ownDeletes.get(keyString);
    if (!entry) return;
    if (entry.count <= 1) state.ownDeletes.delete(keyString);
    else entry.count--;
  }

  #consumeOwnDelete(state: RegionState, keyString: string, now: number): boolean {
    if (state.ownDeletes.size > 1_000) {
      for (const [key, entry] of state.ownDeletes) if (entry.expiresAt < now) state.ownDeletes.delete(key);
    }
    const entry = state.ownDeletes.get(keyString);
    if (!entry) return false;
    if (entry.expiresAt < now) {
      state.ownDeletes.delete(keyString);
      return false;
    }
    this.#forgetOwnDelete(state, keyString);
    return true;
  }

  async #runLink(link: Link): Promise<void> {
    const signal = this.#abort.signal;
    const target = this.#regions.get(link.target);
    if (!target) return;
    const concurrency = Math.max(1, this.#options.linkConcurrency ?? 8);
    while (!signal.aborted) {
      // Changes to different items are applied concurrently (global tables keep no order across items);
      // changes to one item stay in stream order.
      const window = this.#linkPaused(link) ? [] : link.queue.peekDistinct(concurrency);
      if (window.length === 0) {
        await link.wake.wait(signal, 1_000);
        continue;
      }
      const done = await Promise.all(window.map((change) => this.#applyWithRetry(link, target, change, signal)));
      if (done.every(Boolean)) {
        link.queue.shift(window.length);
        for (const change of window) this.#settle(change);
      }
    }
  }

  /** Applies one change, retrying transient errors; false only when stopped first. */
  async #applyWithRetry(link: Link, target: RegionState, change: Change, signal: AbortSignal): Promise<boolean> {
    for (let failures = 0; !signal.aborted; ) {
      try {
        await this.#apply(link, target, change, signal);
        link.lastError = null;
        return true;
      } catch (err) {
        if (signal.aborted && isAbortError(err)) return false;
        link.lastError = errorMessage(err);
        if (errorName(err) === 'ValidationException') {
          link.dropped++;
          this.#emit({
            level: 'error',
            region: link.target,
            message: `dropping change of ${change.keyString} ${link.source} -> ${link.target}: DynamoDB rejected it: ${link.lastError}`,
            error: err instanceof Error ? err : undefined,
          });
          return true;
        }
        failures++;
        link.retries++;
        if (failures === 1 || failures % 20 === 0) {
          this.#emit({ level: 'warn', region: link.target, message: `applying ${link.source} -> ${link.target} failed (${failures}x), retrying: ${link.lastError}` });
        }
        await sleep(backoffMs(failures, 50, 2_000), signal);
      }
    }
    return false;
  }

  async #apply(link: Link, target: RegionState, change: Change, signal: AbortSignal): Promise<void> {
    const names = { '#pk': this.#partitionKey, '#u': UPDATED_AT_ATTRIBUTE, '#o': ORIGIN_ATTRIBUTE };
    const values = { ':t': { N: String(change.updatedAt) }, ':o': { S: change.origin } };
    try {
      if (change.kind === 'put' && change.item) {
        await target.dynamodb.send(
          new PutItemCommand({
            TableName: this.#options.tableName,
            Item: change.item,
            ConditionExpression: 'attribute_not_exists(#pk) OR #u < :t OR (#u = :t AND #o < :o)',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
          { abortSignal: signal },
        );
        const appliedAt = Date.now();
        link.lag.add(Math.max(0, appliedAt - change.updatedAt));
        link.lastAppliedAt = appliedAt;
        link.count++;
      } else {
        // Remember before sending: the REMOVE record can be read before DeleteItem returns.
        this.#rememberOwnDelete(target, change.keyString);
        try {
          await target.dynamodb.send(
            new DeleteItemCommand({
              TableName: this.#options.tableName,
              Key: change.key,
              ConditionExpression: '#u < :t OR (#u = :t AND #o <= :o)',
              ExpressionAttributeNames: { '#u': UPDATED_AT_ATTRIBUTE, '#o': ORIGIN_ATTRIBUTE },
              ExpressionAttributeValues: values,
            }),
            { abortSignal: signal },
          );
        } catch (err) {
          this.#forgetOwnDelete(target, change.keyString); // no REMOVE record will come (or a retry re-remembers)
          throw err;
        }
        link.lastAppliedAt = Date.now();
        link.count++;
        link.deletes++;
      }
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        link.skippedStale++; // the target holds a newer version (or, for a delete, no item at all)
        return;
      }
      throw err;
    }
  }
}
