/**
 * The leader gate: on a member every POST/PUT/PATCH/DELETE gets 403 naming the leader, except the
 * requests the seed allows on members ("Available Operations on Leader vs. Members") and the VEN-facing API.
 * Writes that pass the gate are still fenced in storage (leader record epoch), so a PCE demoted after
 * this check cannot write.
 */
import type { MiddlewareObj } from '@middy/core';
import { NotLeaderError } from '../../../shared/api/errors.ts';
import { MEMBER_WRITES, memberWritePattern } from '../../../shared/auth/permissions.ts';
import type { LeaderView } from '../../../shared/supercluster/leader.ts';
import type { ApiContext, HttpEvent, HttpResult } from '../http.ts';

export interface MemberWriteExemption {
  readonly method: string;
  readonly path: RegExp;
  readonly why: string;
}

/** Made from MEMBER_WRITES (shared/auth/permissions.ts), the one list that also marks the RBAC table's member writes. */
export const MEMBER_WRITE_EXEMPTIONS: readonly MemberWriteExemption[] = MEMBER_WRITES.map((w) => ({ method: w.method, path: memberWritePattern(w), why: w.why }));

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isMemberWriteExempt(method: string, path: string, exemptions: readonly MemberWriteExemption[] = MEMBER_WRITE_EXEMPTIONS): boolean {
  return exemptions.some((e) => (e.method === 'ANY' || e.method === method) && e.path.test(path));
}

export function leaderGate(leader: LeaderView, exemptions: readonly MemberWriteExemption[] = MEMBER_WRITE_EXEMPTIONS): MiddlewareObj<HttpEvent, HttpResult, Error, ApiContext> {
  return {
    before: async (request) => {
      const { method, path } = request.event.requestContext.http;
      if (!WRITE_METHODS.has(method) || isMemberWriteExempt(method, path, exemptions)) return;
      if (await leader.isLeader()) return;
      throw new NotLeaderError((await leader.current())?.leaderFqdn ?? null);
    },
  };
}
