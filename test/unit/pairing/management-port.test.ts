/** The port pairing commands name comes from the environment contract (443 in AWS; the local cloud passes its own). */
import { describe, expect, it } from 'vitest';
import { buildPce } from '../../../lambdas/wiring.ts';
import { ENV, InvalidEnvironmentError, pceRuntimeFromEnv } from '../../../shared/runtime/env.ts';
import { PairingService } from '../../../shared/pairing/pairing-service.ts';
import { rawConfig } from '../../helpers/config.ts';

const env = (extra: Record<string, string> = {}) => ({
  [ENV.region]: 'eu-west-1',
  [ENV.config]: JSON.stringify(rawConfig()),
  [ENV.globalTable]: 'g',
  [ENV.localTable]: 'l',
  ...extra,
});

describe('MANAGEMENT_SERVER_PORT', () => {
  it('is optional (443 then) and read as a TCP port', () => {
    expect(pceRuntimeFromEnv(env()).managementServerPort).toBeUndefined();
    expect(pceRuntimeFromEnv(env({ [ENV.managementServerPort]: '8443' })).managementServerPort).toBe(8443);
  });

  it.each(['0', '65536', 'http', '84 43'])('refuses %j', (raw) => {
    expect(() => pceRuntimeFromEnv(env({ [ENV.managementServerPort]: raw }))).toThrow(InvalidEnvironmentError);
  });

  it('gives buildPce a pairing service and the pairing profile service', () => {
    const pce = buildPce(pceRuntimeFromEnv(env({ [ENV.managementServerPort]: '8443' })));
    expect(pce.pairing).toBeInstanceOf(PairingService);
    expect(pce.pairingProfiles).toBeDefined();
  });
});
