/**
 * The composition root shared by every Lambda entry point: adapters built once per runtime (cold start)
 * from the environment contract, with the SDK clients Lambda provides (shared/storage/dynamodb/adapters.ts,
 * the one adapter factory). The local cloud runs the same entry points in one process per PCE with the
 * same environment, pointed at local endpoints.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AuditTrail } from '../shared/audit/audit-trail.ts';
import { AccessService, apiFencing } from '../shared/auth/access-service.ts';
import { RateLimiter } from '../shared/auth/rate-limit.ts';
import { CompiledPolicyView } from '../shared/compute/policy-view.ts';
import { countWorkloadsAffected } from '../shared/compute/workloads-affected.ts';
import { JobService } from '../shared/jobs/job-service.ts';
import { LabelService } from '../shared/labels/label-service.ts';
import { labelUsesOf } from '../shared/labels/label-uses.ts';
import { LabelDimensionService } from '../shared/labels/label-dimension-service.ts';
import { ContainerClusterService } from '../shared/containers/container-cluster-service.ts';
import { FirewallSettingsService } from '../shared/policy/settings/firewall-settings.ts';
import { PairingProfileService } from '../shared/pairing/pairing-profile-service.ts';
import { PairingService } from '../shared/pairing/pairing-service.ts';
import type { PolicySnapshot } from '../shared/policy/model.ts';
import { PolicyObjectService } from '../shared/policy/objects/policy-object-service.ts';
import { ProvisioningService } from '../shared/policy/objects/provisioning-service.ts';
import { DEFAULT_MANAGEMENT_SERVER_PORT, pceRuntimeFromEnv, type PceRuntime } from '../shared/runtime/env.ts';
import { WorkloadSettingsService } from '../shared/settings/workload-settings-service.ts';
import { globalTableAdapters, leaseTableAdapters, localTableAdapters } from '../shared/storage/dynamodb/adapters.ts';
import { leaseDocumentClient } from '../shared/storage/dynamodb/leader-lease.ts';
import { leaseTimings } from '../shared/supercluster/lease-config.ts';
import { LeaseKeeper } from '../shared/supercluster/lease-keeper.ts';
import { documentClient } from '../shared/storage/dynamodb/client.ts';
import { approximateQueueDepth, SqsComputeQueue } from '../shared/storage/sqs/compute-queue.ts';
import { ReportedPceAvailability } from '../shared/ven/target-availability.ts';
import { ApiGatewayVenPushChannel, venChannelManagementClient } from '../shared/storage/ws/ven-push-channel.ts';
import { GslbSwitchService } from '../shared/supercluster/gslb-switch.ts';
import { LeaderView } from '../shared/supercluster/leader.ts';
import { holdPolicyBelowRunlevel5, RunlevelView } from '../shared/supercluster/runlevel.ts';
import { SuperclusterService } from '../shared/supercluster/supercluster-service.ts';
import { VenAuthenticator } from '../shared/ven/auth.ts';
import { VenChannelService } from '../shared/ven/channel-service.ts';
import { VenPolicyPublisher } from '../shared/ven/publisher.ts';
import { VenStreamReactions } from '../shared/ven/stream-reactions.ts';
import { VenAdminService } from '../shared/ven/ven-admin-service.ts';
import { VenService } from '../shared/ven/ven-service.ts';
import { WorkloadService } from '../shared/workloads/workload-service.ts';
import { ServiceBindingService } from '../shared/policy/bindings/service-bindings.ts';
import { ConsoleSessionService } from '../shared/auth/console-sessions.ts';
import { consoleUrls, fetchProbe, probeNodeAvailable } from '../shared/console/pces.ts';
import { consoleAssetsDir, loadConsoleAssets } from './api/console-assets.ts';

/** Console sign-in attempts per username per minute on one PCE (after that 429 until the next minute). */
export const SIGN_IN_ATTEMPTS_PER_MINUTE = 10;

export function buildPce(runtime: PceRuntime = pceRuntimeFromEnv()) {
  const logger = new Logger({ serviceName: 'pce', persistentKeys: { pce: runtime.pce.fqdn, region: runtime.region } });
  const ddb = documentClient({ region: runtime.region });
  const { region } = runtime;
  const global = globalTableAdapters(ddb, runtime.globalTableName, region);
  const local = localTableAdapters(ddb, runtime.localTableName);
  // the leader lease (docs/adr/0012): only functions given its table (api, scheduled) hold one; LeaderView.fence() proves it before every leader write
  const lease = runtime.leaderLease ? leaseTableAdapters(leaseDocumentClient({ region: runtime.leaderLease.region, endpoint: runtime.leaderLease.endpoint }), runtime.leaderLease.tableName) : null;
  const leaseKeeper = lease ? new LeaseKeeper({ store: lease.leaderLease, timings: leaseTimings(runtime.config.leader_lease), holder: { region, fqdn: runtime.pce.fqdn } }) : null;
  const leader = new LeaderView(global.leaderRecord, region, undefined, undefined, leaseKeeper);
  const { statuses } = global;
  const { lags, runtimeState, listenOnly, venConnections, compiled, heartbeats, agentCount } = local;
  /** this PCE's runlevel (local table, 1 s cache): the API's runlevel gate, and below 5 no new policy for VENs (as listen-only) */
  const runlevel = new RunlevelView(runtimeState);
  const policyHold = holdPolicyBelowRunlevel5(listenOnly, runlevel);
  const labelStore = global.labels;
  const workloadStore = global.workloads;
  const policy = {
    ...global.policy,
    leader,
    workloadsAffected: (orgId: number, before: PolicySnapshot | null, after: PolicySnapshot) => countWorkloadsAffected(workloadStore, orgId, before, after),
    boundWorkloads: (orgId: number) => serviceBindings.boundWorkloads(orgId),
  };
  const pairingStores = global.pairing;
  const sqs = new SQSClient({ region });
  const { computeQueueUrl, computeDlqUrl } = runtime;
  const labelDimensions: LabelDimensionService = new LabelDimensionService({
    documents: global.labelDimensions,
    leader,
    labels: labelStore,
    labelGroupKeys: async (orgId: number): Promise<ReadonlySet<string>> => new Set((await policyObjects.list(orgId, 'draft', 'label_groups', {}, Number.MAX_SAFE_INTEGER)).items.map((v) => ('key' in v.object ? v.object.key : ''))),
  });
  const labelKeys = (orgId: number): Promise<ReadonlySet<string>> => labelDimensions.keys(orgId);
  const policyObjects: PolicyObjectService = new PolicyObjectService({ ...policy, labelKeys });
  /** service bindings: a virtual service (draft or active) bound to a workload of the org */
  const serviceBindings: ServiceBindingService = new ServiceBindingService({
    store: global.serviceBindings,
    leader,
    references: {
      virtualServiceExists: async (orgId, id) => (await global.policy.store.getDraft(orgId, 'virtual_services', id)) !== null || ((await global.policy.snapshots.readActive(orgId))?.document.objects.virtual_services ?? []).some((vs) => vs.id === id),
      workloadExists: async (orgId, id) => (await workloadStore.get(orgId, id, { consistent: true })) !== null,
    },
  });
  const settings = new WorkloadSettingsService({ settings: global.workloadSettings, labels: labelStore, leader });
  /** what still uses a label (label DELETE): each source reads in proportion to its answer (ADR 0015) */
  const labelUses = labelUsesOf({ policy: policyObjects, workloads: workloadStore, settings });
  /** VEN channel: connections in the local table, tokens in the global one; pushes only where the management API is configured */
  const venAuthenticator = new VenAuthenticator(global.agentCredentials);
  const venPush = runtime.venChannelManagementUrl ? new ApiGatewayVenPushChannel(venChannelManagementClient(runtime.venChannelManagementUrl, { region }), runtime.venChannelManagementUrl) : null;
  const publisher = venPush
    ? new VenPolicyPublisher({
        connections: venConnections,
        channel: venPush,
        listenOnly: policyHold,
        onPublished: (outcome, publication) => logger.info('VEN pushes', { orgId: publication.orgId, policyVersion: publication.policyVersion, ...outcome }),
        onError: (error, context) => logger.warn('VEN push failed', { ...context, error: error as Error }),
      })
    : null;
  /** pairing keys (generateKey) and their redemption by the VEN activate call (redeem) */
  const pairing = new PairingService({
    pces: runtime.config.pces,
    region,
    managementServer: { superclusterFqdn: runtime.config.supercluster_fqdn, port: runtime.managementServerPort ?? DEFAULT_MANAGEMENT_SERVER_PORT },
    ...pairingStores,
    onUseNotRecorded: (error, context) => logger.warn('pairing not counted', { ...context, error: error as Error }),
  });
  /** VENs this PCE manages: its own agent items (no leader fence), heartbeats and counters in its local table */
  const venPolicy = new CompiledPolicyView({ store: compiled });
  const { managedWorkloads } = global;
  /** the GSLB switches (global table; read through a short cache): the switch route, and the heartbeat's target_available */
  const gslbSwitches = new GslbSwitchService({ pceFqdns: runtime.config.pces.map((p) => p.fqdn), store: global.gslbSwitches });
  /** every PCE's console URL: the console's links, and where /health probes a PCE that stopped reporting */
  const pceUrls = consoleUrls(runtime.config, runtime.consolePceUrls);
  const venAdmin = new VenAdminService({ config: runtime.config, selfFqdn: runtime.pce.fqdn, workloads: workloadStore, leader, heartbeats, policy: venPolicy });
  return {
    runtime,
    logger,
    leader,
    /** this function's leader lease (null without LEADER_LEASE_TABLE_NAME): renewed by the scheduled task `lease` */
    leaseKeeper,
    /** this region's leader record, read fresh (the lease renewal; the request path reads it through `leader`) */
    leaderRecord: global.leaderRecord,
    statuses,
    lags,
    /** this PCE's replication lag samples (local table), one per probe */
    lagHistory: local.lagHistory,
    runtimeState,
    runlevel: { view: runlevel, pceFqdn: runtime.pce.fqdn },
    /** the drop marks (pce-ctl supercluster-drop): the probe holds a dropped PCE at runlevel 2 */
    drops: global.drops,
    apiKeys: global.apiKeys,
    /** users, API keys per user, roles, permissions, principals (leader writes), and each key's grants (cached GRANT_CACHE_SECONDS) */
    access: new AccessService({ identity: global.identity, apiKeys: global.apiKeys, labels: labelStore, fencing: apiFencing(leader) }),
    /** per API key, per PCE: counters in this PCE's local table; null when the config turns the limit off (0) */
    rateLimit: runtime.config.api_rate_limit_per_minute > 0 ? new RateLimiter({ counter: local.requestCounters, limitPerMinute: runtime.config.api_rate_limit_per_minute }) : null,
    /** the web console (docs/console.md): its files, sign-in, sessions in the local table, every PCE's console URL */
    console: {
      sessions: new ConsoleSessionService({ sessions: local.consoleSessions, passwords: global.passwords, users: global.identity }),
      assets: loadConsoleAssets(consoleAssetsDir()),
      config: runtime.config,
      pceFqdn: runtime.pce.fqdn,
      urls: pceUrls,
      probe: fetchProbe,
      signInLimiter: new RateLimiter({ counter: local.requestCounters, limitPerMinute: SIGN_IN_ATTEMPTS_PER_MINUTE }),
    },
    /** the audit trail: this PCE's events in the global table, every PCE's events read back */
    audit: new AuditTrail({ store: global.auditEvents, pceFqdn: runtime.pce.fqdn, region, regions: runtime.config.pces.map((p) => p.region), defaultOrgId: runtime.config.org_id }),
    membership: global.membership,
    directory: global.directory,
    labels: new LabelService({ labels: labelStore, leader, usesOf: labelUses, keysOf: labelKeys }),
    /** the org's label keys (built-ins and custom dimensions): labels, label groups and scopes accept them */
    labelDimensions,
    /** container clusters (token shown once, stored hashed) and their container workload profiles: leader writes */
    containerClusters: new ContainerClusterService({ documents: global.containerClusters, leader, labels: labelStore }),
    firewallSettings: new FirewallSettingsService({
      documents: global.firewallSettings,
      leader,
      labels: labelStore,
      labelGroupExists: async (orgId, id) => (await global.policy.store.getDraft(orgId, 'label_groups', id)) !== null,
    }),
    settings,
    pairingProfiles: new PairingProfileService({ profiles: pairingStores.profiles, uses: pairingStores.uses, labels: labelStore, leader }),
    pairing,
    policySnapshots: policy.snapshots,
    policy: { objects: policyObjects, provisioning: new ProvisioningService(policy), bindings: serviceBindings },
    workloadStore,
    workloads: new WorkloadService({
      workloads: workloadStore,
      labels: labelStore,
      leader,
      pceFqdns: runtime.config.pces.map((p) => p.fqdn),
      liveStatus: (orgId, ws) => venAdmin.liveStatus(orgId, ws),
      onStorageError: (error, context) => logger.error('bulk workload write failed in storage (answered per item)', { ...context, error: error as Error }),
    }),
    jobs: new JobService({ jobs: local.jobs, onFailure: (job, error) => logger.error('async job failed', { job: job.id, jobType: job.jobType, error: error as Error }) }),
    compiled,
    venAuthenticator,
    venConnections,
    listenOnly,
    /** how many VENs this PCE manages (local table), published in its status item by the probe */
    agentCount,
    venChannel: new VenChannelService({ authenticator: venAuthenticator, connections: venConnections }),
    venPush,
    /** tells connected VENs of each compute run's output (ComputeServiceDeps.publisher); null without VEN_CHANNEL_MANAGEMENT_URL */
    publisher,
    /** the VEN protocol (any PCE) and the VEN objects of the REST API (writes on the leader) */
    vens: {
      protocol: new VenService({
        pce: { fqdn: runtime.pce.fqdn, region },
        agentLimit: runtime.config.object_limits.active_agents_per_pce,
        heartbeatIntervalSeconds: runtime.config.ven_heartbeat_interval_seconds,
        pushUrl: runtime.venChannelUrl ?? null,
        pairing,
        authenticator: venAuthenticator,
        workloads: managedWorkloads,
        listWorkloads: (orgId) => workloadStore.list(orgId, { consistent: true }),
        settings: (orgId) => settings.get(orgId),
        heartbeats,
        agentCount,
        flows: local.flows,
        listenOnly: policyHold,
        policy: venPolicy,
        availability: new ReportedPceAvailability({
          selfFqdn: runtime.pce.fqdn,
          statuses,
          switches: { failedOver: async (fqdn) => (await gslbSwitches.read(fqdn)).failedOver },
          probeIntervalSeconds: runtime.config.probe_interval_seconds,
        }),
      }),
      admin: venAdmin,
      /** what workload changes on this region's stream mean for the VENs managed here */
      streamReactions: new VenStreamReactions({
        selfRegion: region,
        selfFqdn: runtime.pce.fqdn,
        workloads: managedWorkloads,
        credentials: global.agentCredentials,
        heartbeats,
        agentCount,
        notify: publisher ? (agentId, message) => publisher.notifyVen(agentId, message) : null,
        onError: (error, context) => logger.warn('VEN stream reaction failed', { ...context, error: error as Error }),
      }),
    },
    /** every PCE's GSLB switch, read (cached) from this region's replica for the switch health checks */
    gslbSwitches,
    computeQueue: computeQueueUrl ? new SqsComputeQueue(sqs, computeQueueUrl, computeDlqUrl) : null,
    supercluster: new SuperclusterService({
      config: runtime.config,
      pce: runtime.pce,
      leader,
      statuses,
      lags,
      runtime: runtimeState,
      deadLetters: computeDlqUrl ? () => approximateQueueDepth(sqs, computeDlqUrl) : undefined,
      listenOnly,
      drops: global.drops,
      replicationChecks: global.replicationChecks,
      nodeAvailable: (p) => probeNodeAvailable(pceUrls[p.fqdn] ?? `https://${p.fqdn}`, fetchProbe),
      lagHistory: local.lagHistory,
      ...(lease ? { lease: { store: lease.leaderLease, timings: leaseTimings(runtime.config.leader_lease) } } : {}),
    }),
  };
}

export type Pce = ReturnType<typeof buildPce>;
