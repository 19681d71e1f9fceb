/** pce-ctl gslb / local: argument validation (exit 2, naming what is valid) and the local status, against a stub control server. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/pce-ctl.ts';
import { loadSuperclusterConfig } from '../../../infra/config/load.ts';
import { gslbModel, gslbStatus } from '../../../shared/supercluster/gslb.ts';

const config = loadSuperclusterConfig();
const fqdns = config.pces.map((p) => p.fqdn).join(', ');
const regions = config.pces.map((p) => p.region).join(', ');
const gslb = gslbStatus(gslbModel(config), () => ({ node: true, switch: true, leader: false }), () => false);

let dir: string;
let stateFile: string;
let server: Server;
const requests: string[] = [];

async function ctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
  try {
    const code = await main(['node', 'pce-ctl', '--state', stateFile, ...args]);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    stderr.mockRestore();
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(req.url === '/gslb' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url === '/gslb' ? gslb : [{ token: 'not_found', message: 'no' }]));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  dir = mkdtempSync(join(tmpdir(), 'pce-ctl-gslb-'));
  stateFile = join(dir, 'supercluster.json');
  // nothing listens on the DynamoDB endpoint: validation must fail before any call
  writeFileSync(stateFile, JSON.stringify({ local: { dynamodb: 'http://127.0.0.1:9', control: `http://127.0.0.1:${port}` }, pces: config.pces.map((p, i) => ({ fqdn: p.fqdn, url: `http://127.0.0.1:${10 + i}` })) }));
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('pce-ctl gslb failover|restore', () => {
  it.each(['failover', 'restore'])('%s of an FQDN that is not a PCE: exit 2, listing the PCEs', async (action) => {
    const res = await ctl('gslb', action, 'pce-xx.example.com');
    expect(res.code).toBe(2);
    expect(res.err).toContain(`pce-xx.example.com is not a PCE of this supercluster (PCEs: ${fqdns})`);
  });

  it('an unknown --region: exit 2, listing the regions', async () => {
    const res = await ctl('gslb', 'failover', config.pces[0]?.fqdn ?? '', '--region', 'mars-1');
    expect(res.code).toBe(2);
    expect(res.err).toContain(`regions: ${regions}`);
  });

  it('a bad --timeout: exit 2', async () => {
    expect((await ctl('gslb', 'failover', config.pces[0]?.fqdn ?? '', '--timeout', 'soon')).code).toBe(2);
  });
});

describe('pce-ctl gslb status (local)', () => {
  it("prints the local GSLB's rows, and --json as served", async () => {
    const text = await ctl('gslb', 'status');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/PCE\s+REGION\s+NODE\s+SWITCH\s+LEADER\s+PRIMARY\s+FAILED OVER\s+CLIENTS SENT TO/);
    for (const pce of config.pces) expect(text.out).toContain(`${pce.fqdn} (itself)`);
    const json = await ctl('gslb', 'status', '--json');
    expect(JSON.parse(json.out)).toEqual(JSON.parse(JSON.stringify(gslb)));
    expect(requests).toContain('GET /gslb');
  });
});

describe('pce-ctl local', () => {
  it.each(['region-down', 'region-up', 'partition', 'heal'])('%s of an unknown region: exit 2, listing the regions, nothing sent', async (action) => {
    const before = requests.length;
    const res = await ctl('local', action, 'mars-1');
    expect(res.code).toBe(2);
    expect(res.err).toContain(`mars-1 is not a PCE region of this supercluster (regions: ${regions})`);
    expect(requests.length).toBe(before);
  });

  it.each(['region-down', 'partition'])('%s against AWS: points at the FIS experiment template, exit 2', async (action) => {
    const res = await ctl('--aws', 'local', action, config.pces[0]?.region ?? '');
    expect(res.code).toBe(2);
    expect(res.err).toContain('RegionFaultExperimentTemplateId');
  });
});
