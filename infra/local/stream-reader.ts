/**
 * Reads a DynamoDB table's stream through the DynamoDB Streams API (ListStreams, DescribeStream,
 * GetShardIterator, GetRecords), the way a Lambda event source mapping does: every shard, a child shard only
 * after its parent is fully read, records of a shard in order and handed over in batches. The next batch of
 * a shard is fetched only after the consumer's onBatch() resolved; a rejected onBatch() is retried with
 * backoff (nothing is skipped). Expired iterators are renewed from the last delivered sequence number.
 *
 * The one shard-walking implementation: the global-table replicator and the Lambda-style stream poller
 * both build on it.
 */
import {
  DescribeStreamCommand,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
  ResourceNotFoundException,
  TrimmedDataAccessException,
  type DynamoDBStreamsClient,
  type _Record,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { asError, backoffMs, errorMessage, isAbortError, privateDir, sleep, writePrivateFile } from './internal.ts';

export type StreamRecordSdk = _Record;
export type StreamStartingPosition = 'TRIM_HORIZON' | 'LATEST';

export interface StreamBatch {
  readonly streamArn: string;
  readonly shardId: string;
  readonly records: readonly StreamRecordSdk[];
}

/** Where a consumer got to, per shard (so a restart resumes after the last delivered record). */
export interface CheckpointStore {
  get(streamArn: string, shardId: string): string | undefined;
  set(streamArn: string, shardId: string, sequenceNumber: string): void;
  /** Persists pending writes (called on stop). */
  flush?(): void;
}

export interface StreamReaderOptions {
  readonly client: DynamoDBStreamsClient;
  readonly tableName: string;
  /** Where to begin in the shards open at start when there is no checkpoint (default TRIM_HORIZON). Child shards always start at TRIM_HORIZON. */
  readonly startingPosition?: StreamStartingPosition;
  /** GetRecords Limit, 1..1000 (default 1000). */
  readonly batchSize?: number;
  /** Pause between polling rounds that returned nothing (default 50 ms). */
  readonly pollIntervalMs?: number;
  /** How often to look for new shards (default 1000 ms; also right after a shard closed). */
  readonly shardRefreshIntervalMs?: number;
  readonly checkpoints?: CheckpointStore;
  /** Receives each non-empty batch; the shard waits until it resolves. A rejection is reported and the batch redelivered. */
  readonly onBatch: (batch: StreamBatch) => Promise<void>;
  /** Transient problems (all retried); default: console.warn. */
  readonly onError?: (error: Error) => void;
}

export interface StreamReader {
  /** Resolves with the stream ARN once the table's stream was found (it keeps looking until then). */
  readonly ready: Promise<string>;
  /** Start time of the last polling round in which every readable shard returned no records (0 = never). */
  caughtUpAt(): number;
  /** Stops polling; waits for an in-flight onBatch to finish. Idempotent. */
  stop(): Promise<void>;
}

interface ShardState {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  readonly closed: boolean;
  initialPosition: StreamStartingPosition;
  iterator: string | undefined;
  lastSequenceNumber: string | undefined;
  done: boolean;
  failures: number;
  retryAt: number;
}

/** Reads the stream of `tableName` until stop(). */
export function readTableStream(options: StreamReaderOptions): StreamReader {
  const {
    client,
    tableName,
    startingPosition = 'TRIM_HORIZON',
    pollIntervalMs = 50,
    shardRefreshIntervalMs = 1_000,
    checkpoints,
    onBatch,
  } = options;
  const batchSize = Math.min(1_000, Math.max(1, options.batchSize ?? 1_000));
  const onError = options.onError ?? ((error: Error) => console.warn(`[stream-reader ${tableName}] ${error.message}`));
  const abort = new AbortController();
  const signal = abort.signal;
  const shards = new Map<string, ShardState>();
  let caughtUpAt = 0;
  let refreshNeeded = true;
  let firstRefresh = true;

  let resolveReady: (arn: string) => void = () => {};
  let rejectReady: (err: Error) => void = () => {};
  const ready = new Promise<string>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => {}); // a consumer that never awaits ready must not see an unhandled rejection

  const report = (message: string, err?: unknown): void => {
    if (signal.aborted && (err === undefined || isAbortError(err))) return;
    const error = new Error(`stream of table ${tableName}: ${message}${err === undefined ? '' : `: ${errorMessage(err)}`}`, { cause: err });
    try {
      onError(error);
    } catch {
      // a throwing error callback must not kill the reader
    }
  };

  async function resolveStreamArn(): Promise<string | undefined> {
    let attempt = 0;
    while (!signal.aborted) {
      try {
        const streams = (await client.send(new ListStreamsCommand({ TableName: tableName }), { abortSignal: signal })).Streams ?? [];
        const latest = streams
          .filter((s) => s.StreamArn)
          .sort((a, b) => (b.StreamLabel ?? '').localeCompare(a.StreamLabel ?? ''))
          .at(0)?.StreamArn;
        if (latest) return latest;
        if (attempt === 0) report('no stream yet (table missing or stream disabled); waiting for it');
      } catch (err) {
        if (attempt === 0 || attempt % 20 === 0) report('ListStreams failed; retrying', err);
      }
      attempt++;
      await sleep(Math.min(1_000, 50 * attempt), signal);
    }
    return undefined;
  }

  async function refreshShards(streamArn: string): Promise<void> {
    const found: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const description = (
        await client.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }), { abortSignal: signal })
      ).StreamDescription;
      found.push(...(description?.Shards ?? []));
      exclusiveStartShardId = description?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    for (const shard of found) {
      if (!shard.ShardId || shards.has(shard.ShardId)) continue;
      shards.set(shard.ShardId, {
        shardId: shard.ShardId,
        parentShardId: shard.ParentShardId,
        closed: shard.SequenceNumberRange?.EndingSequenceNumber !== undefined,
        // Shards that appear later are children of shards we read: start at their beginning.
        initialPosition: firstRefresh ? startingPosition : 'TRIM_HORIZON',
        iterator: undefined,
        lastSequenceNumber: undefined,
        done: false,
        failures: 0,
        retryAt: 0,
      });
    }
    firstRefresh = false;
  }

  function readable(shard: ShardState): boolean {
    if (shard.done) return false;
    const parent = shard.parentShardId ? shards.get(shard.parentShardId) : undefined;
    return !parent || parent.done;
  }

  async function iteratorFor(streamArn: string, shard: ShardState, useCheckpoint = true): Promise<string | undefined> {
    const after = shard.lastSequenceNumber ?? (useCheckpoint ? checkpoints?.get(streamArn, shard.shardId) : undefined);
    if (!after && shard.initialPosition === 'LATEST' && shard.closed) {
      shard.done = true; // nothing new will ever arrive in a closed shard
      return undefined;
    }
    const type: ShardIteratorType = after ? 'AFTER_SEQUENCE_NUMBER' : shard.initialPosition;
    try {
      const result = await client.send(
        new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.shardId, ShardIteratorType: type, SequenceNumber: after }),
        { abortSignal: signal },
      );
      return result.ShardIterator;
    } catch (err) {
      if (err instanceof TrimmedDataAccessException && after) {
        report(`shard ${shard.shardId}: records after ${after} were trimmed; continuing from TRIM_HORIZON (changes may have been lost)`, err);
        shard.lastSequenceNumber = undefined;
        shard.initialPosition = 'TRIM_HORIZON';
        return iteratorFor(streamArn, shard, false);
      }
      if (err instanceof ResourceNotFoundException) {
        report(`shard ${shard.shardId} no longer exists; skipping it`, err);
        shard.done = true;
        return undefined;
      }
      throw err;
    }
  }

  /** Polls one shard once; returns the number of records delivered. */
  async function pollShard(streamArn: string, shard: ShardState): Promise<number> {
    shard.iterator ??= await iteratorFor(streamArn, shard);
    if (!shard.iterator) return 0;
    let records: StreamRecordSdk[];
    let next: string | undefined;
    try {
      const result = await client.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: batchSize }), { abortSignal: signal });
      records = result.Records ?? [];
      next = result.NextShardIterator;
    } catch (err) {
      if (err instanceof ExpiredIteratorException) {
        shard.iterator = undefined; // renewed from the last delivered sequence number on the next round
        return 0;
      }
      if (err instanceof TrimmedDataAccessException) {
        report(`shard ${shard.shardId}: iterator points at trimmed records; restarting from TRIM_HORIZON (changes may have been lost)`, err);
        shard.iterator = undefined;
        shard.lastSequenceNumber = undefined;
        shard.initialPosition = 'TRIM_HORIZON';
        return 0;
      }
      if (err instanceof ResourceNotFoundException) refreshNeeded = true;
      throw err;
    }
    if (records.length > 0) {
      let attempt = 0;
      for (;;) {
        if (signal.aborted) return 0; // not delivered: not checkpointed either
        try {
          await onBatch({ streamArn, shardId: shard.shardId, records });
          break;
        } catch (err) {
          attempt++;
          report(`shard ${shard.shardId}: consumer failed on a batch of ${records.length}; redelivering (attempt ${attempt})`, err);
          await sleep(backoffMs(attempt, 100, 5_000), signal);
        }
      }
      const last = records.at(-1)?.dynamodb?.SequenceNumber;
      if (last) {
        shard.lastSequenceNumber = last;
        checkpoints?.set(streamArn, shard.shardId, last);
      }
    }
    shard.iterator = next;
    if (!next) {
      shard.done = true; // closed and fully read: its children may start
      refreshNeeded = true;
    }
    return records.length;
  }

  async function run(): Promise<void> {
    const streamArn = await resolveStreamArn();
    if (!streamArn) {
      rejectReady(new Error(`stream reader of table ${tableName} stopped before its stream was found`));
      return;
    }
    resolveReady(streamArn);
    let lastRefresh = 0;
    let refreshFailures = 0;
    while (!signal.aborted) {
      const roundStart = Date.now();
      if (refreshNeeded || roundStart - lastRefresh >= shardRefreshIntervalMs) {
        try {
          await refreshShards(streamArn);
          refreshNeeded = false;
          refreshFailures = 0;
          lastRefresh = roundStart;
        } catch (err) {
          refreshFailures++;
          report('DescribeStream failed; retrying', err);
          await sleep(backoffMs(refreshFailures), signal);
          continue;
        }
      }
      let delivered = 0;
      let clean = true;
      for (const shard of shards.values()) {
        if (signal.aborted) break;
        if (!readable(shard)) continue;
        if (shard.retryAt > Date.now()) {
          clean = false;
          continue;
        }
        try {
          delivered += await pollShard(streamArn, shard);
          shard.failures = 0;
        } catch (err) {
          clean = false;
          shard.failures++;
          shard.retryAt = Date.now() + backoffMs(shard.failures);
          if (shard.failures === 1 || shard.failures % 20 === 0) report(`shard ${shard.shardId}: read failed (${shard.failures}x); retrying`, err);
        }
      }
      if (delivered === 0) {
        if (clean && !refreshNeeded) caughtUpAt = roundStart;
        await sleep(pollIntervalMs, signal);
      }
    }
  }

  const running = run().catch((err: unknown) => {
    report('reader stopped unexpectedly', err);
    rejectReady(asError(err));
  });

  let stopping: Promise<void> | undefined;
  return {
    ready,
    caughtUpAt: () => caughtUpAt,
    stop: () =>
      (stopping ??= (async () => {
        abort.abort();
        await running;
        checkpoints?.flush?.();
      })()),
  };
}

/**
 * A checkpoint store kept in a JSON file (written at most every `flushIntervalMs`, and on flush()).
 * Use with a persistent DynamoDB Local data dir so a restarted consumer does not replay the stream.
 */
export function fileCheckpointStore(path: string, flushIntervalMs = 500): CheckpointStore {
  let data: Record<string, string> = {};
  if (existsSync(path)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (parsed && typeof parsed === 'object') {
        data = Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
      }
    } catch (err) {
      throw new Error(`checkpoint file ${path} is unreadable: ${errorMessage(err)}`, { cause: err });
    }
  }
  let dirty = false;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!dirty) return;
    privateDir(dirname(path));
    writePrivateFile(`${path}.tmp`, JSON.stringify(data, null, 1));
    renameSync(`${path}.tmp`, path);
    dirty = false;
  };
  const key = (streamArn: string, shardId: string): string => `${streamArn}#${shardId}`;
  return {
    get: (streamArn, shardId) => data[key(streamArn, shardId)],
    set(streamArn, shardId, sequenceNumber) {
      data[key(streamArn, shardId)] = sequenceNumber;
      dirty = true;
      if (!timer) {
        timer = setTimeout(flush, flushIntervalMs);
        timer.unref();
      }
    },
    flush,
  };
}
