import { describe, expect, it } from 'vitest';
import { generateApiKey, hashSecret, parseBasicAuth, verifyApiKey } from '../../shared/auth/api-keys.ts';
import { FakeApiKeyStore } from '../helpers/fakes.ts';

describe('API keys', () => {
  it('stores only a hash of the secret and authenticates with the secret', async () => {
    const store = new FakeApiKeyStore();
    const key = generateApiKey({ userId: 1, orgId: 1, now: 0 });
    await store.put(key.record);
    expect(key.record.authUsername).toMatch(/^api_[0-9a-f]{16}$/);
    expect(JSON.stringify(key.record)).not.toContain(key.secret);
    expect(key.record.secretHash).toBe(hashSecret(key.secret));
    expect(await verifyApiKey(store, { username: key.record.authUsername, secret: key.secret }, Date.now())).toEqual({ ok: true, record: key.record });
    expect(await verifyApiKey(store, { username: key.record.authUsername, secret: 'wrong' }, Date.now())).toEqual({ ok: false, reason: 'unknown' });
    expect(await verifyApiKey(store, { username: 'api_0000000000000000', secret: key.secret }, Date.now())).toEqual({ ok: false, reason: 'unknown' });
  });

  it('parses Basic auth headers and rejects malformed ones', () => {
    const header = `Basic ${Buffer.from('api_1:s3:cret').toString('base64')}`;
    expect(parseBasicAuth(header)).toEqual({ username: 'api_1', secret: 's3:cret' });
    expect(parseBasicAuth(undefined)).toBeNull();
    expect(parseBasicAuth('Bearer abc')).toBeNull();
    expect(parseBasicAuth(`Basic ${Buffer.from('nocolon').toString('base64')}`)).toBeNull();
  });
});
