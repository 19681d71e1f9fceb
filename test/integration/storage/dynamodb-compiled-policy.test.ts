/**
 * The compiled-policy store against real DynamoDB Local: hash-compared writes, slice progress, and the
 * compute sequence whose conditional advance lets a runtime detect that another run completed first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbDocumentClient } from '../../../infra/local/clients.ts';
import type { DynamoDbLocal } from '../../../infra/local/dynamodb-local.ts';
import { ensureTables } from '../../../infra/local/tables.ts';
import { ComputeConflictError } from '../../../shared/compute/compute-service.ts';
import type { DynamoDBDocumentClient } from '../../../shared/storage/dynamodb/client.ts';
import { DynamoDbCompiledPolicyStore } from '../../../shared/storage/dynamodb/compiled-policy.ts';
import { localTableName } from '../../../shared/storage/tables.ts';
import { computeWorld } from '../../helpers/compute.ts';
import { startTestDynamoDb, testConfig } from '../local-cloud/helpers.ts';

const config = testConfig('compiled');
const region = 'eu-west-1';

describe('DynamoDbCompiledPolicyStore (DynamoDB Local)', () => {
  let ddb: DynamoDbLocal;
  let client: DynamoDBDocumentClient;
  let store: DynamoDbCompiledPolicyStore;

  beforeAll(async () => {
    ddb = await startTestDynamoDb();
    await ensureTables({ endpoint: ddb.endpoint, config });
    client = dynamoDbDocumentClient(ddb.endpoint, region);
    store = new DynamoDbCompiledPolicyStore(client, localTableName(config, region));
  });

  afterAll(async () => {
    client?.destroy();
    await ddb?.stop();
  });

  it('advances the compute sequence only from the value a run read', async () => {
    expect(await store.computeSeq(7)).toBe(0);
    expect(await store.advanceComputeSeq(7, 0)).toBe(true);
    expect(await store.advanceComputeSeq(7, 0)).toBe(false);
    expect(await store.computeSeq(7)).toBe(1);
    expect(await store.advanceComputeSeq(7, 1)).toBe(true);
    expect(await store.computeSeq(7)).toBe(2);
    expect(await store.computeSeq(8)).toBe(0);
  });

  it('records slice progress idempotently', async () => {
    expect(await store.sliceProgress(7, 3)).toBeNull();
    await store.markSlicesDone(7, 3, [1], 4);
    await store.markSlicesDone(7, 3, [1], 4);
    await store.markSlicesDone(7, 3, [0], 4);
    const progress = await store.sliceProgress(7, 3);
    expect(progress?.slices).toBe(4);
    expect([...(progress?.done ?? [])].sort()).toEqual([0, 1]);
    // several slices in one write (a batch of slice jobs, or a reconcile closing the open ones)
    await store.markSlicesDone(7, 3, [2, 3], 4);
    expect((await store.sliceProgress(7, 3))?.done).toEqual(new Set([0, 1, 2, 3]));
  });

  it('keeps slice progress per document: another document numbered like it starts over', async () => {
    await store.markSlicesDone(7, 9, [0], 2, 'sha-a');
    await store.markSlicesDone(7, 9, [1], 2, 'sha-a');
    expect((await store.sliceProgress(7, 9, 'sha-a'))?.done).toEqual(new Set([0, 1]));
    // a second leader's version 9 (a different document) after a failover
    expect(await store.sliceProgress(7, 9, 'sha-b')).toBeNull();
    await store.markSlicesDone(7, 9, [1], 3, 'sha-b');
    expect(await store.sliceProgress(7, 9, 'sha-b')).toEqual({ slices: 3, done: new Set([1]) });
    expect(await store.sliceProgress(7, 9, 'sha-a')).toBeNull();
  });

  it('two compute runtimes: the one overtaken fails with a conflict, and its retry leaves the newest IP set stored', async () => {
    const { runtime, setFacts, facts, onNextRead } = computeWorld(store, [
      { id: 'web1', labels: [1], ips: ['10.0.0.1'], enforcementMode: 'full', managingPceFqdn: 'me' },
      { id: 'db1', labels: [2], ips: ['10.0.1.1'], enforcementMode: 'full', managingPceFqdn: 'other' },
    ]);
    const [a, b] = [runtime(), runtime()];
    const provision = { version: 1 as const, kind: 'recompute_all' as const, org_id: 1, policy_version: 1, slice: 0, slices: 1, requested_at: 0 };
    const changed = { version: 1 as const, kind: 'workload_changed' as const, org_id: 1, workload_ids: ['db1'], requested_at: 0 };
    const peers = async () => {
      const web1 = (await store.getPolicy('web1'))?.policy;
      return (await store.getIpSets([web1?.outbound[0]?.peers ?? '']))[0]?.members;
    };
    const withDb1 = (ip: string) => facts().map((f) => (f.id === 'db1' ? { ...f, ips: [ip] } : f));

    await a.run(provision);
    expect(await peers()).toEqual(['10.0.1.1']);
    setFacts(withDb1('10.0.1.2'));
    onNextRead(async () => {
      setFacts(withDb1('10.0.1.3'));
      await b.run(changed);
    });
    await expect(a.run(changed)).rejects.toBeInstanceOf(ComputeConflictError);
    expect(await peers()).toEqual(['10.0.1.2']); // a's older view landed last
    await a.run(changed); // the redelivered job
    expect(await peers()).toEqual(['10.0.1.3']);
  });
});
