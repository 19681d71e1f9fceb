/** The API rate limit: window math and decisions (shared/auth/rate-limit.ts), and the middleware through the API handler. */
import { Logger } from '@aws-lambda-powertools/logger';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG_PATH, loadSuperclusterConfig } from '../../infra/config/load.ts';
import { createApiHandler } from '../../lambdas/api/app.ts';
import { buildPce } from '../../lambdas/wiring.ts';
import { generateApiKey } from '../../shared/auth/api-keys.ts';
import { COUNTER_GRACE_SECONDS, decide, DEFAULT_API_RATE_LIMIT_PER_MINUTE, RateLimiter, windowAt } from '../../shared/auth/rate-limit.ts';
import { localTableName } from '../../shared/storage/tables.ts';
import { parseSuperclusterConfig } from '../../shared/supercluster/config.ts';
import { rawConfig, testConfig } from '../helpers/config.ts';
import { httpEvent, lambdaContext } from '../helpers/events.ts';
import { FakeApiKeyStore, FakeLabelStore, FakeLeaderStore, FakeRequestCounterStore } from '../helpers/fakes.ts';
import { coreApiDeps } from '../helpers/api-deps.ts';

/** 2026-01-01T00:00:00Z, a minute boundary */
const T0 = Date.UTC(2026, 0, 1);
const MINUTE0 = T0 / 60_000;

describe('rate limit windows and decisions', () => {
  it('puts a time in its one-minute window, with the seconds left and the counter TTL', () => {
    expect(windowAt(T0)).toEqual({ minute: MINUTE0, secondsLeft: 60, expiresAt: T0 / 1000 + 60 + COUNTER_GRACE_SECONDS });
    expect(windowAt(T0 + 30_500)).toMatchObject({ minute: MINUTE0, secondsLeft: 30 });
    expect(windowAt(T0 + 59_001)).toMatchObject({ minute: MINUTE0, secondsLeft: 1 });
    expect(windowAt(T0 + 59_999)).toMatchObject({ minute: MINUTE0, secondsLeft: 1 });
    expect(windowAt(T0 + 60_000)).toMatchObject({ minute: MINUTE0 + 1, secondsLeft: 60 });
  });

  it('any time: the window contains it, Retry-After reaches the next window (1..60 s), the TTL is minutes after it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (now) => {
        const w = windowAt(now);
        const start = w.minute * 60_000;
        expect(start <= now && now < start + 60_000).toBe(true);
        expect(w.secondsLeft).toBeGreaterThanOrEqual(1);
        expect(w.secondsLeft).toBeLessThanOrEqual(60);
        expect(now + w.secondsLeft * 1000).toBeGreaterThanOrEqual(start + 60_000);
        expect(now + (w.secondsLeft - 1) * 1000).toBeLessThan(start + 60_000);
        expect(w.expiresAt).toBe((start + 60_000) / 1000 + COUNTER_GRACE_SECONDS);
      }),
    );
  });

  it('lets the first `limit` requests of a window through and limits the next with Retry-After', () => {
    const w = windowAt(T0 + 45_000);
    expect(decide(1, 500, w)).toEqual({ kind: 'allowed', count: 1, limit: 500 });
    expect(decide(500, 500, w)).toEqual({ kind: 'allowed', count: 500, limit: 500 });
    expect(decide(501, 500, w)).toEqual({ kind: 'limited', count: 501, limit: 500, retryAfterSeconds: 15 });
  });

  it('counts per key and per window, and fails open when the counter cannot be written', async () => {
    let now = T0;
    const counter = new FakeRequestCounterStore();
    const limiter = new RateLimiter({ counter, limitPerMinute: 2, now: () => now });
    expect((await limiter.check('api_a')).kind).toBe('allowed');
    expect((await limiter.check('api_a')).kind).toBe('allowed');
    expect(await limiter.check('api_a')).toEqual({ kind: 'limited', count: 3, limit: 2, retryAfterSeconds: 60 });
    expect((await limiter.check('api_b')).kind).toBe('allowed');
    now += 60_000;
    expect((await limiter.check('api_a')).kind).toBe('allowed');
    counter.failWith = new Error('ProvisionedThroughputExceededException');
    expect(await limiter.check('api_a')).toEqual({ kind: 'unmetered', error: counter.failWith });
  });

  it('rejects a limit that is not a positive integer', () => {
    const counter = new FakeRequestCounterStore();
    expect(() => new RateLimiter({ counter, limitPerMinute: 0 })).toThrow(RangeError);
    expect(() => new RateLimiter({ counter, limitPerMinute: 1.5 })).toThrow(RangeError);
  });
});

describe('supercluster config: api_rate_limit_per_minute', () => {
  it("defaults to Illumio's 500", () => {
    const raw = rawConfig();
    delete raw.api_rate_limit_per_minute;
    expect(parseSuperclusterConfig(raw).api_rate_limit_per_minute).toBe(DEFAULT_API_RATE_LIMIT_PER_MINUTE);
    expect(DEFAULT_API_RATE_LIMIT_PER_MINUTE).toBe(500);
  });

  it('is set explicitly in the shipped config, to the default', () => {
    const shipped = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8')) as Record<string, unknown>;
    expect(shipped.api_rate_limit_per_minute).toBe(DEFAULT_API_RATE_LIMIT_PER_MINUTE);
    expect(loadSuperclusterConfig().api_rate_limit_per_minute).toBe(DEFAULT_API_RATE_LIMIT_PER_MINUTE);
  });

  it('must be 0 (off) or a positive integer, naming the field', () => {
    expect(parseSuperclusterConfig({ ...rawConfig(), api_rate_limit_per_minute: 0 }).api_rate_limit_per_minute).toBe(0);
    for (const bad of [-5, 2.5, '500']) {
      expect(() => parseSuperclusterConfig({ ...rawConfig(), api_rate_limit_per_minute: bad })).toThrow(/api_rate_limit_per_minute: /);
    }
  });

  it('reaches the API through the runtime the Lambda is built from', () => {
    const config = parseSuperclusterConfig({ ...rawConfig(), api_rate_limit_per_minute: 42 });
    const [pce] = config.pces;
    if (!pce) throw new Error('no PCE');
    const built = buildPce({ config, region: pce.region, pce, globalTableName: 'g', localTableName: localTableName(config, pce.region), computeQueueUrl: undefined, computeDlqUrl: undefined });
    expect(built.rateLimit?.limitPerMinute).toBe(42);
    const off = parseSuperclusterConfig({ ...rawConfig(), api_rate_limit_per_minute: 0 });
    expect(buildPce({ config: off, region: pce.region, pce, globalTableName: 'g', localTableName: localTableName(off, pce.region), computeQueueUrl: undefined, computeDlqUrl: undefined }).rateLimit).toBeNull();
  });
});

describe('API rate limit (through the API handler, fakes)', () => {
  const config = testConfig();
  const LIMIT = 3;
  let now: number;
  let counter: FakeRequestCounterStore;
  let labels: FakeLabelStore;
  let logger: Logger;
  let api: (event: ReturnType<typeof httpEvent>) => ReturnType<ReturnType<typeof createApiHandler>>;
  let alice: { username: string; secret: string };
  let bob: { username: string; secret: string };

  beforeEach(async () => {
    now = T0 + 20_000;
    counter = new FakeRequestCounterStore();
    const leaderStore = new FakeLeaderStore({ leaderRegion: 'us-east-1', leaderFqdn: config.pces[0]?.fqdn ?? '', epoch: 1, assignedAt: 0, previousLeaderFqdn: null });
    labels = new FakeLabelStore(leaderStore);
    const keys = new FakeApiKeyStore();
    const a = generateApiKey({ userId: 1, orgId: 1, now: 0 });
    const b = generateApiKey({ userId: 1, orgId: 1, now: 0 });
    await keys.put(a.record);
    await keys.put(b.record);
    alice = { username: a.record.authUsername, secret: a.secret };
    bob = { username: b.record.authUsername, secret: b.secret };
    const region = config.pces[0]?.region;
    if (!region) throw new Error('no PCE');
    const core = coreApiDeps({ config, region, leaderStore, apiKeys: keys, labels });
    logger = core.logger;
    const handler = createApiHandler({ ...core, rateLimit: new RateLimiter({ counter, limitPerMinute: LIMIT, now: () => now }) });
    api = (event) => handler(event, lambdaContext());
  });

  const listLabels = (auth: { username: string; secret: string } | null) => api(httpEvent('GET', '/api/v2/orgs/1/labels', { auth }));

  it('answers the request over the limit with 429 too_many_requests and Retry-After until the next minute', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await listLabels(alice)).statusCode).toBe(200);
    const res = await listLabels(alice);
    expect(res.statusCode).toBe(429);
    expect(res.headers?.['retry-after']).toBe('40');
    expect(res.headers?.['content-type']).toBe('application/json');
    const body = JSON.parse(res.body ?? '') as { token: string; message: string }[];
    expect(body).toEqual([{ token: 'too_many_requests', message: expect.stringContaining(`${LIMIT} requests per minute`) }]);
  });

  it('a limited write writes nothing', async () => {
    for (let i = 0; i < LIMIT; i++) await listLabels(alice);
    const res = await api(httpEvent('POST', '/api/v2/orgs/1/labels', { auth: alice, body: { key: 'role', value: 'web' } }));
    expect(res.statusCode).toBe(429);
    expect(labels.labels.size).toBe(0);
  });

  it('limits each key on its own', async () => {
    for (let i = 0; i < LIMIT + 2; i++) await listLabels(alice);
    expect((await listLabels(alice)).statusCode).toBe(429);
    expect((await listLabels(bob)).statusCode).toBe(200);
  });

  it('starts over in the next minute window', async () => {
    for (let i = 0; i < LIMIT; i++) await listLabels(alice);
    now += 39_999;
    expect((await listLabels(alice)).statusCode).toBe(429);
    now += 1; // T0 + 60 s
    for (let i = 0; i < LIMIT; i++) expect((await listLabels(alice)).statusCode).toBe(200);
    expect((await listLabels(alice)).statusCode).toBe(429);
  });

  it('does not limit or count the public health checks', async () => {
    for (let i = 0; i < LIMIT * 3; i++) {
      expect((await api(httpEvent('GET', '/api/v2/node_available'))).statusCode).toBe(202);
      expect((await api(httpEvent('GET', '/api/v2/supercluster/leader/'))).statusCode).toBe(202);
    }
    expect(counter.calls).toBe(0);
  });

  it('does not count requests refused with 401', async () => {
    for (let i = 0; i < LIMIT * 3; i++) {
      expect((await listLabels({ ...alice, secret: 'wrong' })).statusCode).toBe(401);
      expect((await listLabels(null)).statusCode).toBe(401);
    }
    expect(counter.calls).toBe(0);
    for (let i = 0; i < LIMIT; i++) expect((await listLabels(alice)).statusCode).toBe(200);
  });

  it('counts 404s and 403s like any authenticated request', async () => {
    expect((await api(httpEvent('GET', '/api/v2/nothing', { auth: alice }))).statusCode).toBe(404);
    expect((await api(httpEvent('GET', '/api/v2/orgs/2/labels', { auth: alice }))).statusCode).toBe(403);
    expect((await listLabels(alice)).statusCode).toBe(200);
    expect((await listLabels(alice)).statusCode).toBe(429);
  });

  it('lets requests through, with a warning, when the counter cannot be written', async () => {
    const warn = vi.spyOn(logger, 'warn');
    counter.failWith = new Error('ProvisionedThroughputExceededException');
    for (let i = 0; i < LIMIT * 2; i++) expect((await listLabels(alice)).statusCode).toBe(200);
    expect((await api(httpEvent('POST', '/api/v2/orgs/1/labels', { auth: alice, body: { key: 'role', value: 'web' } }))).statusCode).toBe(201);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('rate limit'), expect.objectContaining({ authUsername: alice.username, error: counter.failWith }));
  });
});
