/**
 * Initialises a supercluster in the leader's region (the seed's supercluster-init-leader and
 * supercluster-join rolled into one, since membership here comes from the config): the org, the
 * membership items, the leader record at epoch 1, the initial leader's lease (epoch 1, when a lease store
 * is given; docs/adr/0012-leader-lease.md) and a bootstrap admin API key. Re-runnable:
 * whatever exists is kept, and a key is only created when none was created before.
 */
import { ensureOwnerUser } from '../auth/access-service.ts';
import { generateApiKey, type ApiKeyStore } from '../auth/api-keys.ts';
import type { IdentityStore } from '../auth/identity.ts';
import type { DefaultPolicyInitializer } from '../policy/objects/defaults.ts';
import { initialLeader, type SuperclusterConfig } from './config.ts';
import { ProvisioningService } from '../policy/objects/provisioning-service.ts';
import type { PolicyServiceDeps } from '../policy/objects/policy-object-service.ts';
import { LeaderView, type LeaderRecord, type LeaderRecordStore } from './leader.ts';
import type { LeaseStore } from './lease.ts';
import { leaseTimings } from './lease-config.ts';
import type { DirectoryStore, MembershipStore } from './membership.ts';

export const BOOTSTRAP_ADMIN_USER_ID = 1;
export const BOOTSTRAP_ADMIN_USERNAME = 'admin';

export interface BootstrapDeps {
  readonly config: SuperclusterConfig;
  readonly leader: LeaderRecordStore;
  readonly membership: MembershipStore;
  readonly directory: DirectoryStore;
  readonly apiKeys: ApiKeyStore;
  /** users, principals, permissions: the bootstrap user (1, `admin`) with an owner permission */
  readonly identity: IdentityStore;
  /** the org's default IP list and service, provisioned as policy version 1 (stores of the initial leader's region) */
  readonly policy?: DefaultPolicyInitializer;
  /** the leader lease: taken for the initial leader at epoch 1 (later epochs take it themselves) */
  readonly leaderLease?: LeaseStore;
  readonly now: () => number;
}

export interface BootstrapResult {
  readonly leader: LeaderRecord;
  /** present only when this run created the admin key (the secret cannot be recovered later) */
  readonly createdApiKey: { readonly authUsername: string; readonly secret: string } | null;
}

/**
 * apiKey: 'if-none' creates the bootstrap admin key only if none was ever created (pce-ctl, re-runnable);
 * 'new' always adds one (the local cloud, when its saved secret is gone); 'none' creates none.
 */
export async function initializeSupercluster(deps: BootstrapDeps, options: { apiKey: 'if-none' | 'new' | 'none' }): Promise<BootstrapResult> {
  const { config } = deps;
  const now = deps.now();
  await deps.directory.putOrgIfAbsent({ id: config.org_id, name: `${config.name} organization`, createdAt: now });
  for (const pce of config.pces) {
    await deps.membership.addIfAbsent({ fqdn: pce.fqdn, region: pce.region, buddy: pce.buddy, continents: pce.continents, joinedAt: now });
  }
  const first = initialLeader(config);
  const leader = await deps.leader.createIfAbsent({ leaderRegion: first.region, leaderFqdn: first.fqdn, epoch: 1, assignedAt: now, previousLeaderFqdn: null });
  // only while the leader is still the region these stores write in (one writer region per item)
  if (leader.leaderRegion === first.region) {
    const fence = { region: leader.leaderRegion, epoch: leader.epoch };
    if (deps.policy) await deps.policy.ensureDefaultPolicy({ orgId: config.org_id, fence, now });
    // user 1 with an owner permission: keys of user 1 without a role of their own act as owner
    await ensureOwnerUser(deps.identity, fence, { id: BOOTSTRAP_ADMIN_USER_ID, orgId: config.org_id, username: BOOTSTRAP_ADMIN_USERNAME, fullName: 'Supercluster administrator', createdAt: now });
  }
  if (deps.leaderLease && leader.epoch === 1) {
    // refused when the initial leader already holds it or another one does: either way nothing to do
    const timings = leaseTimings(config.leader_lease);
    await deps.leaderLease.tryAcquire({ holderRegion: leader.leaderRegion, holderFqdn: leader.leaderFqdn, epoch: 1, expiresAt: now + timings.durationMs, renewedAt: now }, { takeOverExpiredBefore: now - timings.clockSkewMs });
  }
  let createdApiKey: BootstrapResult['createdApiKey'] = null;
  if (options.apiKey !== 'none') {
    const key = generateApiKey({ userId: BOOTSTRAP_ADMIN_USER_ID, orgId: config.org_id, now, role: 'owner', name: 'bootstrap admin key' });
    const stored = options.apiKey === 'new' ? await deps.apiKeys.put(key.record) : await deps.apiKeys.putBootstrap(key.record);
    if (stored) createdApiKey = { authUsername: key.record.authUsername, secret: key.secret };
  }
  return { leader, createdApiKey };
}

/** The stores bootstrap needs, as the one adapter factory provides them (shared/storage/dynamodb/adapters.ts). */
export interface BootstrapStores {
  readonly leaderRecord: LeaderRecordStore;
  readonly membership: MembershipStore;
  readonly directory: DirectoryStore;
  readonly apiKeys: ApiKeyStore;
  readonly identity: IdentityStore;
  readonly policy: Omit<PolicyServiceDeps, 'leader'>;
  /** the leader lease (shared/storage/dynamodb/adapters.ts leaseTableAdapters); absent: no lease is taken */
  readonly leaderLease?: LeaseStore;
}

/** Bootstrap's dependencies in `region` (the initial leader's): pce-ctl supercluster-init-leader and the local cloud. */
export function bootstrapDeps(config: SuperclusterConfig, stores: BootstrapStores, region: string, now: () => number = Date.now): BootstrapDeps {
  return {
    config,
    leader: stores.leaderRecord,
    membership: stores.membership,
    directory: stores.directory,
    apiKeys: stores.apiKeys,
    identity: stores.identity,
    policy: new ProvisioningService({ ...stores.policy, leader: new LeaderView(stores.leaderRecord, region) }),
    ...(stores.leaderLease ? { leaderLease: stores.leaderLease } : {}),
    now,
  };
}
