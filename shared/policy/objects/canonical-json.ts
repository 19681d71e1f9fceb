/**
 * JSON with object keys sorted at every level (undefined members dropped, as JSON.stringify does):
 * the same content always gives the same text, whatever order a store returned the attributes in.
 * Used to compare draft and active objects and to hash provisioned snapshots.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) out[key] = sortKeys(member);
  }
  return out;
}
