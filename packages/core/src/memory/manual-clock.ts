import type { Clock, TimerHandle } from '../ports/clock.js';

/*
 * The in-memory adapter of the Clock port. Public API, not a test helper: the embedded deployment
 * is documented to run on it (docs/getting-started.md) and the CLI's `faaskeeper demo` runs a
 * session expiry on it in milliseconds; the testkit imports it from here.
 */

interface ManualTimer {
  id: number;
  at: number;
  fn: () => void;
}

/** Timer order: due time, then the order they were set in (ids grow). */
const before = (a: ManualTimer, b: ManualTimer): boolean => a.at < b.at || (a.at === b.at && a.id < b.id);

/**
 * A clock that moves only when told. `advance(ms)` runs due timers in time order (timers due at
 * the same time in the order they were set), letting promise callbacks settle between them, so
 * code driven by timers behaves as it would in real time.
 *
 * Setting and clearing a timer cost O(log n) and O(1) whatever the number of timers: a deployment
 * with 10,000 idle sessions holds tens of thousands of them, and every request sets and clears one
 * (its timeout). Timers live in a map by id and in a binary min-heap; a cleared timer leaves the
 * map at once and the heap when it reaches the top, or when cleared ones outnumber live ones.
 */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly live = new Map<number, ManualTimer>();
  private heap: ManualTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.current + Math.max(0, ms), fn };
    this.live.set(timer.id, timer);
    this.push(timer);
    return { id: timer.id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.live.delete((handle as { id: number }).id);
    // Cleared timers stay in the heap until they reach its top; rebuild before they dominate it.
    if (this.heap.length > 1024 && this.heap.length > 2 * this.live.size) {
      this.heap = [];
      for (const t of [...this.live.values()].sort((a, b) => (before(a, b) ? -1 : 1))) this.heap.push(t);
    }
  }

  /** Number of timers waiting. */
  get pending(): number {
    return this.live.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await settle();
      const next = this.nextDue(target);
      if (next === undefined) break;
      this.live.delete(next.id);
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    this.current = target;
    await settle();
  }

  /** Removes and returns the earliest live timer due by `target`, if any. */
  private nextDue(target: number): ManualTimer | undefined {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > target) return undefined;
      this.pop();
      if (this.live.get(top.id) === top) return top;
    }
  }

  private push(timer: ManualTimer): void {
    const h = this.heap;
    h.push(timer);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(timer, h[parent] as ManualTimer)) break;
      h[i] = h[parent] as ManualTimer;
      i = parent;
    }
    h[i] = timer;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && before(h[r] as ManualTimer, h[l] as ManualTimer) ? r : l;
      if (!before(h[child] as ManualTimer, last)) break;
      h[i] = h[child] as ManualTimer;
      i = child;
    }
    h[i] = last;
  }
}

/** Lets pending promise callbacks and immediates run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
