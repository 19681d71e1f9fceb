/**
 * Item keys of the VEN side (docs/adr/0008-vens-and-managed-workloads.md). One writer region per item:
 *
 * Global table
 * - `PAIRING_KEY#<sha256 of the activation code>` / `KEY`: a pairing key; written (and redeemed, with a
 *   condition on its remaining uses) only in the region of the PCE that generated it.
 * - `ORG#<org>#PAIRING_PROFILES` / `PROFILE#<16-digit id>`: pairing profiles (leader).
 * - `ORG#<org>#PAIRING_USES` / `<16-digit profile id>#<region>`: uses of a profile's keys paired on that region's PCE (that PCE).
 * - `VEN#<agent id>` / `AUTH`: the VEN's credential (SHA-256 of its token secret); written by the PCE that paired it.
 * - `ORG#<org>#WORKLOADS` / `<workload id>#AGENT#<region>`: a managed workload as the PCE of `region` manages it
 *   (agent, hostname, OS, interfaces, online, since); written only by that PCE. The newest `since` manages it.
 *
 * Local table (per PCE)
 * - `VEN_HEARTBEATS#<org>` / `<agent id>`: last heartbeat, uptime, goodbye, applied policy (not replicated: the seed).
 * - `VEN_CONNECTIONS` / `AGENT#<agent id>` and `VEN_CONNECTIONS` / `CONN#<connection id>`: open VEN channels.
 * - `VEN_FLOWS#<agent id>` / `<ms>#<rand>`: uploaded flow summaries (TTL expires_at).
 * - `PCE` / `LISTEN_ONLY`: listen-only mode of this PCE (`enabled_at`).
 */
const pad = (id: number) => String(id).padStart(16, '0');

export const venKeys = {
  pairingKey: (codeHash: string) => ({ pk: `PAIRING_KEY#${codeHash}`, sk: 'KEY' }),
  pairingProfilePartition: (orgId: number) => `ORG#${orgId}#PAIRING_PROFILES`,
  pairingProfile: (orgId: number, id: number) => ({ pk: `ORG#${orgId}#PAIRING_PROFILES`, sk: `PROFILE#${pad(id)}` }),
  pairingUsesPartition: (orgId: number) => `ORG#${orgId}#PAIRING_USES`,
  pairingUses: (orgId: number, profileId: number, region: string) => ({ pk: `ORG#${orgId}#PAIRING_USES`, sk: `${pad(profileId)}#${region}` }),
  agentAuth: (agentId: string) => ({ pk: `VEN#${agentId}`, sk: 'AUTH' }),
  heartbeatPartition: (orgId: number) => `VEN_HEARTBEATS#${orgId}`,
  heartbeat: (orgId: number, agentId: string) => ({ pk: `VEN_HEARTBEATS#${orgId}`, sk: agentId }),
  connectionPartition: () => 'VEN_CONNECTIONS',
  connectionByAgent: (agentId: string) => ({ pk: 'VEN_CONNECTIONS', sk: `AGENT#${agentId}` }),
  connectionById: (connectionId: string) => ({ pk: 'VEN_CONNECTIONS', sk: `CONN#${connectionId}` }),
  flows: (agentId: string, at: number, suffix: string) => ({ pk: `VEN_FLOWS#${agentId}`, sk: `${String(at).padStart(15, '0')}#${suffix}` }),
  listenOnly: () => ({ pk: 'PCE', sk: 'LISTEN_ONLY' }),
} as const;
