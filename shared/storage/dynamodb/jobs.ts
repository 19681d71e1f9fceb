/**
 * Async jobs and their results in this PCE's local table (not replicated; TTL attribute `expires_at`).
 * A result body is split into chunks of at most `chunkBytes` (DynamoDB items are limited to 400 KB),
 * written before the META item that lists them, so a datafile is either complete or absent.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Datafile, DatafileInfo, Job, JobStatus, JobStore } from '../../jobs/job.ts';
import { jobKeys } from '../workload-keys.ts';
import { batchPutAll, queryPartition, type DynamoDBDocumentClient } from './client.ts';

/** Bytes of body per chunk item: below DynamoDB's 400 KB item limit with room for keys and attributes. */
export const DATAFILE_CHUNK_BYTES = 350_000;

type Item = Record<string, unknown>;

function toJob(item: Item): Job {
  return {
    orgId: Number(item.org_id),
    id: String(item.job_id),
    jobType: String(item.job_type),
    description: String(item.description ?? ''),
    status: item.status as JobStatus,
    requestedAt: Number(item.requested_at),
    terminatedAt: typeof item.terminated_at === 'number' ? item.terminated_at : null,
    requestedBy: Number(item.requested_by),
    // jobs from before ownership was stored have no key: nobody may read them (they expire within a day)
    requestedByKey: typeof item.requested_by_key === 'string' ? item.requested_by_key : '',
    resultId: typeof item.result_id === 'string' ? item.result_id : null,
    failureMessage: typeof item.failure_message === 'string' ? item.failure_message : null,
    expiresAt: Number(item.expires_at),
  };
}


export class DynamoDbJobStore implements JobStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    /** this PCE's local table */
    private readonly tableName: string,
    private readonly chunkBytes = DATAFILE_CHUNK_BYTES,
  ) {}

  async putJob(job: Job): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...jobKeys.job(job.orgId, job.id),
          org_id: job.orgId,
          job_id: job.id,
          job_type: job.jobType,
          description: job.description,
          status: job.status,
          requested_at: job.requestedAt,
          terminated_at: job.terminatedAt,
          requested_by: job.requestedBy,
          requested_by_key: job.requestedByKey,
          result_id: job.resultId,
          failure_message: job.failureMessage,
          expires_at: job.expiresAt,
        },
      }),
    );
  }

  async getJob(orgId: number, id: string): Promise<Job | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: jobKeys.job(orgId, id), ConsistentRead: true }));
    return out.Item ? toJob(out.Item) : null;
  }

  async putDatafile(file: Datafile): Promise<void> {
    const chunks = Math.max(1, Math.ceil(file.body.byteLength / this.chunkBytes));
    const items: Item[] = [];
    for (let i = 0; i < chunks; i++) {
      items.push({ ...jobKeys.datafileChunk(file.orgId, file.id, i), data: file.body.subarray(i * this.chunkBytes, (i + 1) * this.chunkBytes), expires_at: file.expiresAt });
    }
    await batchPutAll(this.client, this.tableName, items);
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...jobKeys.datafileMeta(file.orgId, file.id),
          org_id: file.orgId,
          file_id: file.id,
          content_type: file.contentType,
          requested_by_key: file.requestedByKey,
          size: file.body.byteLength,
          chunks,
          created_at: file.createdAt,
          expires_at: file.expiresAt,
        },
      }),
    );
  }

  async getDatafileInfo(orgId: number, id: string): Promise<DatafileInfo | null> {
    const out = await this.client.send(new GetCommand({ TableName: this.tableName, Key: jobKeys.datafileMeta(orgId, id), ConsistentRead: true }));
    const meta = out.Item;
    if (!meta) return null;
    return { orgId, id, requestedByKey: typeof meta.requested_by_key === 'string' ? meta.requested_by_key : '', size: Number(meta.size), createdAt: Number(meta.created_at), expiresAt: Number(meta.expires_at) };
  }

  async getDatafile(orgId: number, id: string): Promise<Datafile | null> {
    let meta: Item | undefined;
    const parts = new Map<number, Uint8Array>();
    for (const item of await queryPartition(this.client, this.tableName, { pk: jobKeys.datafilePartition(orgId, id), consistent: true })) {
      const sk = String(item.sk);
      if (sk === 'META') meta = item;
      else if (sk.startsWith('CHUNK#') && item.data instanceof Uint8Array) parts.set(Number(sk.slice('CHUNK#'.length)), item.data);
    }
    if (!meta) return null;
    const chunks = Number(meta.chunks);
    const ordered: Uint8Array[] = [];
    for (let i = 0; i < chunks; i++) {
      const part = parts.get(i);
      if (!part) return null; // expired chunk (TTL deletes items one by one)
      ordered.push(part);
    }
    const body = Buffer.concat(ordered);
    if (body.byteLength !== Number(meta.size)) return null;
    return { orgId, id, contentType: String(meta.content_type), requestedByKey: typeof meta.requested_by_key === 'string' ? meta.requested_by_key : '', body, createdAt: Number(meta.created_at), expiresAt: Number(meta.expires_at) };
  }
}
