/**
 * Runs `fn` over `items` with at most `limit` calls in flight; rejects with the first error. After
 * a failure no new call starts, and the rejection waits until every call in flight has settled:
 * a failed function invocation must leave no write behind that could land after its retry.
 *
 * Not an `async` function: the distributor calls it a dozen times per batch, mostly with no or one
 * item, and a function frame, a worker and a settled-results array per call were a noticeable part
 * of a small batch's garbage.
 */
export function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const n = items.length;
  if (n === 0) return Promise.resolve([]);
  if (n === 1) return call(fn, items[0]!, 0).then((r) => [r]);
  if (limit <= 1) return inOrder(items, fn);
  // All of them start at once, as the workers' first calls would (none sees a failure before
  // every worker has started).
  if (n <= limit) return allThenFirstError(items.map((item, i) => call(fn, item, i)));
  return pooled(items, limit, fn);
}

/** `fn(item, index)`, a synchronous throw turned into a rejection (as an `async` caller would). */
function call<T, R>(fn: (item: T, index: number) => Promise<R>, item: T, index: number): Promise<R> {
  try {
    return fn(item, index);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** One call at a time, in order. */
async function inOrder<T, R>(items: readonly T[], fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  for (let i = 0; i < items.length; i++) out[i] = await fn(items[i]!, i);
  return out;
}

/** Every call started at once: waits for all of them, then rejects with the first error (in item order). */
async function allThenFirstError<R>(calls: Promise<R>[]): Promise<R[]> {
  const results = await Promise.allSettled(calls);
  const out = new Array<R>(results.length);
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if (r.status === 'rejected') throw r.reason;
    out[i] = r.value;
  }
  return out;
}

/** `limit` workers taking the next item each; after a failure no worker takes another. */
async function pooled<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
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
  const results = await Promise.allSettled(Array.from({ length: limit }, worker));
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return out;
}
