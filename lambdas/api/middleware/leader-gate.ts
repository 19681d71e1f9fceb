/**
 * The leader gate: on a member every POST/PUT/PATCH/DELETE gets 403 naming the leader, except the
 * requests the seed allows on members ("Available Operations on Leader vs. Members") and the VEN-facing API.
 * Writes that pass the gate are still fenced in storage (leader record epoch), so a PCE demoted after
 * this check cannot write.
 */
import type { MiddlewareObj } from '@middy/core';
import { NotLeaderError } from '../../../shared/api/errors.ts';
import type { LeaderView } from '../../../shared/supercluster/leader.ts';
import type { ApiContext, HttpEvent, HttpResult } from '../http.ts';

export interface MemberWriteExemption {
  readonly method: string;
  readonly path: RegExp;
  readonly why: string;
}

const ORG = '/api/v2/orgs/[0-9]+';

export const MEMBER_WRITE_EXEMPTIONS: readonly MemberWriteExemption[] = [
  { method: 'POST', path: new RegExp(`^${ORG}/pairing_profiles/[0-9]+/pairing_key/?$`), why: 'pairing keys are generated on members for their own VENs' },
  { method: 'DELETE', path: new RegExp(`^${ORG}/blocked_traffic(/.*)?$`), why: 'DELETE blocked traffic is allowed on members' },
  { method: 'POST', path: new RegExp(`^${ORG}/support_report_requests/?$`), why: 'workload support reports are allowed on members' },
  { method: 'POST', path: new RegExp(`^${ORG}/traffic_flows/async_queries/?$`), why: 'asynchronous collections are allowed on members (local data)' },
  { method: 'ANY', path: /^\/api\/v2\/ven(\/.*)?$/, why: 'VEN-facing calls go to the PCE that manages the VEN' },
];

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
