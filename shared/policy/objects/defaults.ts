/**
 * The objects every org starts with, provisioned as policy version 1 at bootstrap. Clients look them
 * up by name to write "any" rules, so they are read-only. They have fixed ids below the first
 * leadership epoch's id range (epoch 1 starts at POLICY_IDS_PER_EPOCH + 1), like Illumio's 1.
 */
import type { WriteFence } from '../../supercluster/leader.ts';
import { OBJECT_NOUNS, type PolicyObjectType } from './common.ts';
import type { IpList } from './ip-list.ts';
import type { ObjectKey } from './objects.ts';
import { ANY_PROTOCOL, type Service } from './service.ts';

/** Object ids are `epoch * POLICY_IDS_PER_EPOCH + n` (ADR 0001), so two leaders never hand out the same id. */
export const POLICY_IDS_PER_EPOCH = 1_000_000_000;

export const SYSTEM_USER_ID = 0;
export const DEFAULT_IP_LIST_ID = 1;
export const DEFAULT_SERVICE_ID = 1;
export const DEFAULT_IP_LIST_NAME = 'Any (0.0.0.0/0 and ::/0)';
export const DEFAULT_SERVICE_NAME = 'All Services';

export const DEFAULT_OBJECT_KEYS: readonly ObjectKey[] = [
  { type: 'ip_lists', id: DEFAULT_IP_LIST_ID },
  { type: 'services', id: DEFAULT_SERVICE_ID },
];

export function isDefaultObject(type: PolicyObjectType, id: number): boolean {
  return DEFAULT_OBJECT_KEYS.some((k) => k.type === type && k.id === id);
}

export function readOnlyMessage(type: PolicyObjectType, id: number): string {
  return `the ${OBJECT_NOUNS[type]} ${id} is a default object of every org and cannot be changed or deleted`;
}

export function defaultIpList(now: number): IpList {
  return {
    id: DEFAULT_IP_LIST_ID,
    createdAt: now,
    updatedAt: now,
    createdBy: SYSTEM_USER_ID,
    updatedBy: SYSTEM_USER_ID,
    name: DEFAULT_IP_LIST_NAME,
    description: null,
    ipRanges: [
      { fromIp: '0.0.0.0/0', exclusion: false },
      { fromIp: '::/0', exclusion: false },
    ],
    fqdns: [],
    externalDataSet: null,
    externalDataReference: null,
  };
}

export function defaultService(now: number): Service {
  return {
    id: DEFAULT_SERVICE_ID,
    createdAt: now,
    updatedAt: now,
    createdBy: SYSTEM_USER_ID,
    updatedBy: SYSTEM_USER_ID,
    name: DEFAULT_SERVICE_NAME,
    description: null,
    servicePorts: [{ proto: ANY_PROTOCOL }],
    externalDataSet: null,
    externalDataReference: null,
  };
}

/** What bootstrap (shared/supercluster/bootstrap.ts) calls: idempotent, a no-op once the org has any active version. */
export interface DefaultPolicyInitializer {
  ensureDefaultPolicy(input: { orgId: number; fence: WriteFence; now: number }): Promise<{ version: number; created: boolean }>;
}
