/**
 * The baseline of `npm run bench:api`: a bare node:http server (its own process, like a PCE's) that answers
 * `POST /api/v2/ven/v1/heartbeat` with the heartbeat's answer shape after the same single durable write
 * as the PCE: one PutItem of the same heartbeat item (shared/storage/dynamodb/ven-local.ts
 * DynamoDbHeartbeatStore, same table, same DynamoDB Local, same document client). No framework, no
 * validation library, no token check beyond reading the agent id: what the PCE's path costs on top of
 * that is what the bench's ratio shows.
 *
 * Forked with IPC by bench/api.ts: env BARE_HOST, BARE_PORT, BARE_TABLE, BARE_REGION, BARE_ENDPOINT,
 * BARE_ORG, BARE_FQDN, BARE_INTERVAL; it receives `{type: 'vens', vens: [{agentId, workloadId}]}` and answers `{type: 'ready', url}`.
 */
import { createServer } from 'node:http';
import { dynamoDbDocumentClient } from '../../infra/local/clients.ts';
import { DynamoDbHeartbeatStore } from '../../shared/storage/dynamodb/ven-local.ts';
import { AGENT_TOKEN, type HeartbeatResponseV1 } from '../../shared/ven/protocol.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const host = env('BARE_HOST');
const port = Number(env('BARE_PORT'));
const orgId = Number(env('BARE_ORG'));
const fqdn = env('BARE_FQDN');
const intervalSeconds = Number(process.env.BARE_INTERVAL ?? '60');
const store = new DynamoDbHeartbeatStore(dynamoDbDocumentClient(env('BARE_ENDPOINT'), env('BARE_REGION')), env('BARE_TABLE'));
const workloadOf = new Map<string, string>();

const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      if (req.method !== 'POST' || req.url !== '/api/v2/ven/v1/heartbeat') return send(res, 404, [{ token: 'not_found', message: 'no route' }]);
      const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const agentId = token ? AGENT_TOKEN.exec(token)?.[1] : undefined;
      const workloadId = agentId ? workloadOf.get(agentId) : undefined;
      if (!agentId || !workloadId) return send(res, 401, [{ token: 'ven_unknown', message: 'unknown VEN' }]);
      let body: { uptime_seconds?: unknown; policy_version?: unknown; rules_hash?: unknown; applied_at?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        return send(res, 400, [{ token: 'invalid_json', message: 'unreadable JSON' }]);
      }
      if (typeof body.uptime_seconds !== 'number') return send(res, 406, [{ token: 'input_validation_error', message: 'uptime_seconds' }]);
      const version = typeof body.policy_version === 'number' ? body.policy_version : null;
      const hash = typeof body.rules_hash === 'string' ? body.rules_hash : null;
      await store.put(orgId, {
        agentId,
        workloadId,
        lastHeartbeatAt: Date.now(),
        uptimeSeconds: body.uptime_seconds,
        appliedVersion: version,
        appliedRulesHash: hash,
        appliedAt: typeof body.applied_at === 'number' ? body.applied_at : null,
        goodbyeAt: null,
      });
      const answer: HeartbeatResponseV1 = { policy_version: version, rules_hash: hash, active_pce_fqdn: fqdn, target_pce_fqdn: fqdn, target_available: true, listen_only: false, heartbeat_interval_seconds: intervalSeconds };
      send(res, 200, answer);
    })().catch((err: unknown) => send(res, 500, [{ token: 'internal', message: (err as Error).message }]));
  });
});
server.keepAliveTimeout = 5_000; // as the PCE's gateway

process.on('message', (m: { type: string; vens?: { agentId: string; workloadId: string }[] }) => {
  if (m.type !== 'vens') return;
  for (const v of m.vens ?? []) workloadOf.set(v.agentId, v.workloadId);
  server.listen(port, host, () => process.send?.({ type: 'ready', url: `http://${host}:${port}` }));
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
