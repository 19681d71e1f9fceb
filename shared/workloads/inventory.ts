/**
 * The descriptive workload fields the Terraform provider sends (models/workload.go: data_center,
 * data_center_zone, distinguished_name, service_provider, service_principal_name) and
 * ignored_interface_names: accepted on create, update and the bulk calls, stored with the leader-written
 * part of the workload and shown back. They do not change policy.
 */
import { z } from 'zod';

export interface WorkloadInventory {
  readonly dataCenter: string | null;
  readonly dataCenterZone: string | null;
  readonly distinguishedName: string | null;
  readonly serviceProvider: string | null;
  readonly servicePrincipalName: string | null;
  /** interface names the VEN leaves out of policy */
  readonly ignoredInterfaceNames: readonly string[];
}

export const EMPTY_INVENTORY: WorkloadInventory = { dataCenter: null, dataCenterZone: null, distinguishedName: null, serviceProvider: null, servicePrincipalName: null, ignoredInterfaceNames: [] };

const text = z.string().max(255, 'must be at most 255 characters').nullable();

/** Request fields (all optional). */
export const inventoryFields = {
  data_center: text.optional(),
  data_center_zone: text.optional(),
  distinguished_name: z.string().max(1024, 'must be at most 1024 characters').nullable().optional(),
  service_provider: text.optional(),
  service_principal_name: text.optional(),
  ignored_interface_names: z.array(z.string().trim().min(1, 'must not be empty').max(64, 'must be at most 64 characters')).max(256, 'at most 256 names').nullable().optional(),
};

type InventoryInput = { [K in keyof typeof inventoryFields]?: z.infer<(typeof inventoryFields)[K]> };

const pick = <T>(next: T | undefined, current: T): T => (next === undefined ? current : next);

/** The inventory a create (`current` absent) or an update makes. */
export function inventoryFromInput(input: InventoryInput, current: WorkloadInventory = EMPTY_INVENTORY): WorkloadInventory {
  return {
    dataCenter: pick(input.data_center, current.dataCenter),
    dataCenterZone: pick(input.data_center_zone, current.dataCenterZone),
    distinguishedName: pick(input.distinguished_name, current.distinguishedName),
    serviceProvider: pick(input.service_provider, current.serviceProvider),
    servicePrincipalName: pick(input.service_principal_name, current.servicePrincipalName),
    ignoredInterfaceNames: input.ignored_interface_names === undefined ? current.ignoredInterfaceNames : [...new Set(input.ignored_interface_names ?? [])],
  };
}

export function inventoryToJson(inv: WorkloadInventory = EMPTY_INVENTORY) {
  return {
    data_center: inv.dataCenter,
    data_center_zone: inv.dataCenterZone,
    distinguished_name: inv.distinguishedName,
    service_provider: inv.serviceProvider,
    service_principal_name: inv.servicePrincipalName,
    ignored_interface_names: [...inv.ignoredInterfaceNames],
  };
}

/** From a stored item's `inventory` attribute (absent on workloads written before it). */
export function inventoryFromItem(raw: unknown): WorkloadInventory | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const s = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    dataCenter: s(r.data_center),
    dataCenterZone: s(r.data_center_zone),
    distinguishedName: s(r.distinguished_name),
    serviceProvider: s(r.service_provider),
    servicePrincipalName: s(r.service_principal_name),
    ignoredInterfaceNames: Array.isArray(r.ignored_interface_names) ? r.ignored_interface_names.filter((n): n is string => typeof n === 'string') : [],
  };
}

/** The stored form (an `inventory` map on the workload's meta item); nothing when every field is empty. */
export function inventoryToItem(inv: WorkloadInventory | undefined): { inventory?: Record<string, unknown> } {
  if (!inv || JSON.stringify(inv) === JSON.stringify(EMPTY_INVENTORY)) return {};
  return { inventory: inventoryToJson(inv) };
}
