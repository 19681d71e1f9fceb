/** GET `url`: its HTTP status (redirects not followed), or null when nothing answered within `timeoutMs`: what a health check sees. */
export async function httpStatus(url: string, timeoutMs = 3_000): Promise<number | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.body?.cancel();
    return res.status;
  } catch {
    return null;
  }
}
