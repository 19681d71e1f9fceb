/**
 * How a provisioned document is stored: canonical JSON, hashed (sha256), gzipped, base64, cut into
 * chunks small enough for one DynamoDB item each. Decoding checks the hash, so a reader never uses
 * content mixed from two writes.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { canonicalJson } from '../objects/canonical-json.ts';
import { withAllTypes } from '../objects/objects.ts';
import { SNAPSHOT_FORMAT, type ActivePolicyDocument, type SnapshotContent } from './document.ts';
import { SnapshotChecksumError } from './errors.ts';

/** base64 characters per chunk item: well below the 300 KB item budget (DynamoDB's limit is 400 KB). */
export const CHUNK_CHARS = 240_000;

export interface EncodedSnapshot {
  readonly content: SnapshotContent;
  readonly chunks: readonly string[];
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function encodeSnapshot(document: ActivePolicyDocument, chunkChars = CHUNK_CHARS): EncodedSnapshot {
  const text = canonicalJson(document);
  const packed = gzipSync(Buffer.from(text, 'utf8')).toString('base64');
  const chunks: string[] = [];
  for (let i = 0; i < packed.length; i += chunkChars) chunks.push(packed.slice(i, i + chunkChars));
  return { content: { sha256: sha256Hex(text), chunks: chunks.length, bytes: Buffer.byteLength(text, 'utf8') }, chunks };
}

/** The document from its chunks in order; SnapshotChecksumError unless it is exactly what was hashed. */
export function decodeSnapshot(orgId: number, version: number, chunks: readonly string[], content: Pick<SnapshotContent, 'sha256'>): ActivePolicyDocument {
  let text: string;
  try {
    text = gunzipSync(Buffer.from(chunks.join(''), 'base64')).toString('utf8');
  } catch (cause) {
    throw new SnapshotChecksumError(orgId, version, 'the chunks do not decompress', { cause });
  }
  const actual = sha256Hex(text);
  if (actual !== content.sha256) throw new SnapshotChecksumError(orgId, version, `expected ${content.sha256}, got ${actual}`);
  const document = JSON.parse(text) as ActivePolicyDocument;
  if (document.format !== SNAPSHOT_FORMAT) throw new SnapshotChecksumError(orgId, version, `unknown snapshot format ${String(document.format)}`);
  // versions provisioned before a type existed have no key for it
  return { ...document, objects: withAllTypes(document.objects) };
}
