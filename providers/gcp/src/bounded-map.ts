/**
 * A Map that keeps at most `limit` entries: setting a key makes it the newest, and past the limit
 * the oldest is dropped. For the functions' memos (the writer's order guard, the system store's item
 * shapes), which save reads while an instance lives and must not grow with the sessions it served.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (this.size > this.limit) super.delete(this.keys().next().value as K);
    return this;
  }
}
