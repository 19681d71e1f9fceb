/**
 * Leader-written org documents that are not versioned policy (label dimensions, container clusters and their
 * workload profiles): one partition per org and family in the global table, every write fenced by the leader
 * record and stamped (one writer: the leader), optimistic on `updatedAt`, with unique claims (a dimension's key,
 * a cluster's name) written in the same transaction.
 */
import { notLeaderAfterFenceFailure, requireLeaderFence } from '../api/leader-fence.ts';
import { ValidationError } from '../api/errors.ts';
import { FenceFailedError, type LeaderView, type WriteFence } from '../supercluster/leader.ts';

export interface StoredDocument {
  /** the id in the href: a UUID, or a fixed word for built-in documents */
  readonly id: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface DocumentWrite {
  readonly next: StoredDocument;
  /** the `updatedAt` read before the write, or null to create (the write fails if the document changed or exists) */
  readonly expectedUpdatedAt: number | null;
  /** unique claims to take (each fails the write when taken) and to release */
  readonly claim?: readonly string[];
  readonly release?: readonly string[];
  /** other new documents written in the same transaction (each must not exist) */
  readonly alsoCreate?: readonly StoredDocument[];
}

export interface DocumentStore {
  /** documents whose id starts with `idPrefix` (default: all), in id order */
  list(orgId: number, idPrefix?: string): Promise<StoredDocument[]>;
  get(orgId: number, id: string, options?: { consistent?: boolean }): Promise<StoredDocument | null>;
  put(orgId: number, write: DocumentWrite, fence: WriteFence): Promise<void>;
  delete(orgId: number, current: StoredDocument, fence: WriteFence, release?: readonly string[]): Promise<void>;
}

/** A unique claim of the write is already taken (e.g. a label dimension key that exists). */
export class DocumentClaimTakenError extends Error {
  override readonly name = 'DocumentClaimTakenError';
}

/** The document changed or vanished between read and write. */
export class DocumentChangedError extends Error {
  override readonly name = 'DocumentChangedError';
}

/** Takes the leader fence, runs the write, and maps storage outcomes to API errors (403 naming the leader, 406 for conflicts). */
export async function leaderDocumentWrite<T>(leader: LeaderView, write: (fence: WriteFence) => Promise<T>, tokens: { claimTaken: string; changed: string }): Promise<T> {
  const fence = await requireLeaderFence(leader);
  try {
    return await write(fence);
  } catch (err) {
    if (err instanceof FenceFailedError) throw await notLeaderAfterFenceFailure(leader, err);
    if (err instanceof DocumentClaimTakenError) throw new ValidationError([{ token: tokens.claimTaken, message: err.message }], { cause: err });
    if (err instanceof DocumentChangedError) throw new ValidationError([{ token: tokens.changed, message: `${err.message}; read it again and retry` }], { cause: err });
    throw err;
  }
}
