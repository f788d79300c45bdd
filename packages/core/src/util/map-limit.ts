/**
 * Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first error. After
 * a failure no new call starts, and the rejection waits until every call in flight has settled:
 * a failed function invocation must leave no write behind that could land after its retry.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  if (items.length <= 1 || limit <= 1) {
    for (let i = 0; i < items.length; i++) out[i] = await fn(items[i]!, i);
    return out;
  }
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return out;
}
