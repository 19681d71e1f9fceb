/**
 * A metering HTTP proxy in front of DynamoDB Local, for benchmarks that count what a request costs in
 * storage: every call a PCE process makes passes through it unchanged, and the proxy tallies, per
 * operation, the items DynamoDB read (Query/Scan `ScannedCount`, GetItem's item, BatchGetItem's and
 * TransactGetItems' responses), the items it returned, the items written (PutItem/UpdateItem/DeleteItem: 1,
 * BatchWriteItem: its requests, TransactWriteItems: its Put/Update/Delete actions; ConditionChecks are
 * counted apart) and the response bytes. DynamoDB Local does not check signatures, so forwarding the
 * signed request to another host:port is fine.
 */
import { request as httpRequest, createServer, type IncomingMessage, type Server } from 'node:http';

export interface MeterCounts {
  calls: number;
  /** items DynamoDB evaluated (what read units are charged on) */
  itemsRead: number;
  /** items DynamoDB sent back */
  itemsReturned: number;
  itemsWritten: number;
  conditionChecks: number;
  responseBytes: number;
  byOperation: Record<string, number>;
}

export const emptyCounts = (): MeterCounts => ({ calls: 0, itemsRead: 0, itemsReturned: 0, itemsWritten: 0, conditionChecks: 0, responseBytes: 0, byOperation: {} });

export function diffCounts(after: MeterCounts, before: MeterCounts): MeterCounts {
  const byOperation: Record<string, number> = {};
  for (const [op, n] of Object.entries(after.byOperation)) {
    const d = n - (before.byOperation[op] ?? 0);
    if (d !== 0) byOperation[op] = d;
  }
  return {
    calls: after.calls - before.calls,
    itemsRead: after.itemsRead - before.itemsRead,
    itemsReturned: after.itemsReturned - before.itemsReturned,
    itemsWritten: after.itemsWritten - before.itemsWritten,
    conditionChecks: after.conditionChecks - before.conditionChecks,
    responseBytes: after.responseBytes - before.responseBytes,
    byOperation,
  };
}

export interface DynamoDbMeter {
  readonly endpoint: string;
  /** a copy of the running totals */
  snapshot(): MeterCounts;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

function tally(counts: MeterCounts, operation: string, req: Json, res: Json, bytes: number): void {
  counts.calls++;
  counts.responseBytes += bytes;
  counts.byOperation[operation] = (counts.byOperation[operation] ?? 0) + 1;
  switch (operation) {
    case 'Query':
    case 'Scan':
      counts.itemsRead += num(res.ScannedCount);
      counts.itemsReturned += arr(res.Items).length;
      break;
    case 'GetItem': {
      const n = res.Item ? 1 : 0;
      counts.itemsRead += n;
      counts.itemsReturned += n;
      break;
    }
    case 'BatchGetItem': {
      const n = Object.values((res.Responses ?? {}) as Record<string, unknown[]>).reduce((s, items) => s + arr(items).length, 0);
      counts.itemsRead += n;
      counts.itemsReturned += n;
      break;
    }
    case 'TransactGetItems': {
      const n = arr(res.Responses).filter((r) => (r as Json | null)?.Item).length;
      counts.itemsRead += n;
      counts.itemsReturned += n;
      break;
    }
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
      counts.itemsWritten += 1;
      break;
    case 'BatchWriteItem':
      counts.itemsWritten += Object.values((req.RequestItems ?? {}) as Record<string, unknown[]>).reduce((s, r) => s + arr(r).length, 0);
      break;
    case 'TransactWriteItems':
      for (const action of arr(req.TransactItems) as Json[]) {
        if (action.ConditionCheck) counts.conditionChecks++;
        else counts.itemsWritten++;
      }
      break;
  }
}

const readAll = (stream: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });

const parse = (body: Buffer): Json => {
  try {
    return JSON.parse(body.toString('utf8')) as Json;
  } catch {
    return {};
  }
};

export async function startDynamoDbMeter(target: string, host = '127.0.0.1'): Promise<DynamoDbMeter> {
  const upstream = new URL(target);
  const counts = emptyCounts();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (up) => {
        void readAll(up).then((answer) => {
          if (operation && (up.statusCode ?? 500) < 300) tally(counts, operation, parse(body), parse(answer), answer.length);
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.end(answer);
        });
      });
      out.once('error', (err) => {
        res.writeHead(502);
        res.end(err.message);
      });
      out.end(body);
    })();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://${host}:${port}`,
    snapshot: () => ({ ...counts, byOperation: { ...counts.byOperation } }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
