/**
 * How the API applies request fields to objects. PUT is a partial update: a field the request does not
 * mention keeps its value. `external_data_set` / `external_data_reference` are the tags automation tools
 * set on labels, policy objects and workloads and later sweep by (API.md).
 */

/** Keeps the current value when the update does not mention the field. */
export function pick<T>(next: T | undefined, current: T): T {
  return next === undefined ? current : next;
}

export interface ExternalRefs {
  readonly externalDataSet: string | null;
  readonly externalDataReference: string | null;
}

export interface ExternalRefsInput {
  readonly external_data_set?: string | null | undefined;
  readonly external_data_reference?: string | null | undefined;
}

/** A create's external refs (null when not given), or an update's applied over `current`. */
export function externalRefs(input: ExternalRefsInput, current: ExternalRefs = { externalDataSet: null, externalDataReference: null }): ExternalRefs {
  return {
    externalDataSet: pick(input.external_data_set, current.externalDataSet),
    externalDataReference: pick(input.external_data_reference, current.externalDataReference),
  };
}
