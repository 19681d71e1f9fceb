/**
 * VEN principals: an agent token is `<agent id>.<64 hex secret>`, handed out once by activation. Only a
 * SHA-256 of the secret is stored (256 random bits: a fast hash is not brute-forceable; ADR 0004). A VEN
 * token is accepted by the VEN protocol only, API keys never are (lambdas/api/middleware/authenticate.ts).
 *
 * Every VEN call is authenticated, and heartbeats come from thousands of VENs: verified tokens are kept
 * in memory for CACHE_TTL_MS (the hash of the presented secret is compared on every call), so an unpaired
 * VEN is refused everywhere within that time plus the replication lag.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hashSecret } from '../auth/api-keys.ts';
import { AGENT_TOKEN } from './protocol.ts';
import type { AgentCredential, AgentCredentialStore, VenPrincipal } from './ports.ts';

export const CACHE_TTL_MS = 10_000;
const CACHE_MAX = 100_000;

export function generateAgentToken(agentId: string): { token: string; tokenHash: string } {
  const secret = randomBytes(32).toString('hex');
  return { token: `${agentId}.${secret}`, tokenHash: hashSecret(secret) };
}

/** `Authorization: Bearer <agent token>` -> agent id and secret; null when absent or not a VEN token. */
export function parseAgentToken(header: string | undefined): { agentId: string; secret: string } | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const t = m?.[1] ? AGENT_TOKEN.exec(m[1]) : null;
  return t?.[1] && t[2] ? { agentId: t[1], secret: t[2] } : null;
}

function matches(credential: AgentCredential, secret: string): boolean {
  const expected = Buffer.from(credential.tokenHash, 'hex');
  const actual = Buffer.from(hashSecret(secret), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export class VenAuthenticator {
  private readonly cache = new Map<string, { credential: AgentCredential; until: number }>();

  constructor(
    private readonly store: AgentCredentialStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** The VEN behind an Authorization header, or null (unknown agent, wrong secret, not a VEN token). */
  async authenticate(header: string | undefined): Promise<VenPrincipal | null> {
    const parsed = parseAgentToken(header);
    if (!parsed) return null;
    const now = this.now();
    let cached = this.cache.get(parsed.agentId);
    if (!cached || cached.until <= now) {
      const credential = await this.store.get(parsed.agentId);
      if (!credential) {
        this.cache.delete(parsed.agentId);
        return null;
      }
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      cached = { credential, until: now + CACHE_TTL_MS };
      this.cache.set(parsed.agentId, cached);
    }
    if (!matches(cached.credential, parsed.secret)) return null;
    const { agentId, orgId, workloadId } = cached.credential;
    return { agentId, orgId, workloadId };
  }

  /** Forget a VEN at once on this runtime (unpair). */
  forget(agentId: string): void {
    this.cache.delete(agentId);
  }
}
