/**
 * Gzip for large responses, and a clear answer when a response cannot be sent at all.
 *
 * A Lambda behind API Gateway returns at most 6 MB. Collections of workloads (synchronous with a large
 * max_results, and the async datafiles made for big collections) pass that quickly as JSON, and JSON
 * compresses 10-20x; Illumio clients (requests, Go net/http, curl --compressed) send
 * `Accept-Encoding: gzip` and decompress transparently. A response still too large after that gets a
 * 406 naming the size and what to do, not a gateway 502.
 */
import { gzipSync } from 'node:zlib';
import type { MiddlewareObj } from '@middy/core';
import { header, json, type ApiContext, type HttpEvent, type HttpResult } from '../http.ts';

/** Below this a body is sent as is: compression would not pay for itself. */
export const MIN_COMPRESS_BYTES = 8 * 1024;
/** Lambda's 6 MB synchronous response limit, less room for the status line, headers and JSON envelope. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 - 64 * 1024;

/** Whether `Accept-Encoding` allows gzip (RFC 9110: `gzip`, `x-gzip` or `*`, unless weighted q=0). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  let star = false;
  for (const part of acceptEncoding.split(',')) {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const allowed = q === undefined || Number(q.slice(2)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return allowed;
    if (coding === '*') star = allowed;
  }
  return star;
}

/** What the body weighs in Lambda's response payload (a base64 body counts as its text). */
const bodyBytes = (result: HttpResult): number => (result.body ? Buffer.byteLength(result.body) : 0);

export function compressResponses(): MiddlewareObj<HttpEvent, HttpResult, Error, ApiContext> {
  const finish = (request: { event: HttpEvent; response: HttpResult | null | undefined }) => {
    const response = request.response;
    if (!response?.body || response.isBase64Encoded) return;
    const plain = Buffer.byteLength(response.body);
    const gzipAccepted = acceptsGzip(header(request.event, 'accept-encoding'));
    if (plain >= MIN_COMPRESS_BYTES && gzipAccepted) {
      const gzipped = gzipSync(response.body);
      response.body = gzipped.toString('base64');
      response.isBase64Encoded = true;
      response.headers = { ...response.headers, 'content-encoding': 'gzip', vary: 'accept-encoding' };
    }
    if (bodyBytes(response) > MAX_RESPONSE_BYTES) {
      const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
      request.response = json(406, [
        {
          token: 'response_too_large',
          message:
            `the response (${mb(plain)} MB of JSON${response.isBase64Encoded ? `, ${mb(bodyBytes(response))} MB compressed` : ''}) exceeds the API's 6 MB limit: ` +
            (gzipAccepted ? 'narrow it with filters or max_results' : 'send Accept-Encoding: gzip, or narrow it with filters or max_results'),
        },
      ]);
    }
  };
  return { after: finish, onError: finish };
}
