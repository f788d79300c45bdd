import { type Clock, systemClock, type TimerHandle } from '../ports/clock.js';
import { LimitExceededError } from '../ports/errors.js';
import type {
  OutgoingMessage,
  Queue,
  QueueCapabilities,
  ReceivedMessage,
  ReceiveOptions,
} from '../ports/queue.js';
import { byteLength } from '../protocol/codec.js';
import { type Carried, carriedBy, carry, encodedSizeAtMost } from '../protocol/in-process.js';

interface Held {
  id: string;
  /** The message's text; for an in-process message, its value and text made when read. */
  body: string | Carried;
  group: string;
  attempt: number;
  receipt: string | undefined;
  /** When an in-flight message becomes visible again (clock ms). */
  visibleAt: number;
}

export interface MemoryQueueOptions {
  clock?: Clock;
  capabilities?: Partial<QueueCapabilities>;
  /** How long a de-duplication id is remembered (SQS FIFO: 5 minutes). */
  dedupWindowMs?: number;
}

/**
 * A FIFO queue in memory with SQS FIFO's semantics: per-group order, a group is blocked while any
 * of its messages is in flight, visibility timeouts hand unacknowledged messages out again, and
 * sends with a recently seen de-duplication id are dropped.
 */
export class MemoryQueue implements Queue {
  readonly name: string;
  readonly capabilities: QueueCapabilities;
  private readonly clock: Clock;
  private readonly dedupWindowMs: number;
  private readonly groups = new Map<string, Held[]>();
  private readonly inFlight = new Map<string, Held>();
  private readonly blocked = new Map<string, number>();
  private readonly dedup = new Map<string, number>();
  private waiters: (() => void)[] = [];
  /** An interrupt that found no receiver waiting: the next long poll returns at once. */
  private interrupted = false;
  private nextId = 1;
  private nextReceipt = 1;
  private cursor = 0;
  /** One timer for all visibility deadlines (a timer per message costs more than the queue itself). */
  private sweeper: TimerHandle | undefined;

  constructor(name: string, options: MemoryQueueOptions = {}) {
    this.name = name;
    this.clock = options.clock ?? systemClock;
    this.dedupWindowMs = options.dedupWindowMs ?? 5 * 60_000;
    this.capabilities = {
      maxMessageBytes: options.capabilities?.maxMessageBytes ?? 1024 * 1024,
      maxBatch: options.capabilities?.maxBatch ?? 100,
      inProcess: true,
    };
  }

  async send(messages: OutgoingMessage[]): Promise<void> {
    await undefined;
    const held: (string | Carried)[] = [];
    for (const m of messages) {
      // An in-process message is encoded only when a bound on its size says it might not fit.
      const local = carriedBy(m);
      const bound = local === undefined ? undefined : encodedSizeAtMost(local.value);
      held.push(local ?? m.body);
      const size =
        bound !== undefined && bound <= this.capabilities.maxMessageBytes ? bound : byteLength(m.body);
      if (size > this.capabilities.maxMessageBytes)
        throw new LimitExceededError(`message to ${this.name}`, size, this.capabilities.maxMessageBytes);
    }
    const now = this.clock.now();
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const seen = this.dedup.get(m.dedupId);
      if (seen !== undefined && seen > now) continue;
      // Re-insert so the Map stays in expiry order (the clock never goes back).
      this.dedup.delete(m.dedupId);
      this.dedup.set(m.dedupId, now + this.dedupWindowMs);
      let q = this.groups.get(m.group);
      if (q === undefined) {
        q = [];
        this.groups.set(m.group, q);
      }
      q.push({
        id: `m${this.nextId++}`,
        body: held[i]!,
        group: m.group,
        attempt: 0,
        receipt: undefined,
        visibleAt: 0,
      });
    }
    this.pruneDedup(now);
    this.wake();
  }

  async receive(options: ReceiveOptions): Promise<ReceivedMessage[]> {
    await undefined;
    const got = this.take(options);
    if (got.length > 0 || !options.waitMs) return got;
    if (this.interrupted) {
      this.interrupted = false;
      return got;
    }
    await new Promise<void>((resolve) => {
      let timer: TimerHandle | undefined;
      const done = () => {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      this.waiters.push(done);
      timer = this.clock.setTimeout(done, options.waitMs ?? 0);
    });
    return this.take(options);
  }

  async ack(receipts: string[]): Promise<void> {
    await undefined;
    for (const r of receipts) {
      const h = this.inFlight.get(r);
      if (h === undefined) continue; // expired receipt: the message is already out again
      this.inFlight.delete(r);
      const q = this.groups.get(h.group);
      if (q !== undefined) {
        const i = q.indexOf(h);
        if (i >= 0) q.splice(i, 1);
        if (q.length === 0) this.groups.delete(h.group);
      }
      this.unblock(h.group);
    }
    this.wake();
  }

  async release(receipts: string[]): Promise<void> {
    await undefined;
    for (const r of receipts) this.makeVisible(r);
    this.wake();
  }

  /** Messages waiting or in flight. */
  get depth(): number {
    let n = 0;
    for (const q of this.groups.values()) n += q.length;
    return n;
  }

  /** Wakes every long-polling receiver (used when a runtime stops). */
  interrupt(): void {
    // A poller about to wait (a binding stopped right after it started) must not sleep through it.
    if (this.waiters.length === 0) this.interrupted = true;
    this.wake();
  }

  private take(options: ReceiveOptions): ReceivedMessage[] {
    const out: ReceivedMessage[] = [];
    const groups = [...this.groups.keys()];
    if (groups.length === 0) return out;
    const visibleAt = this.clock.now() + options.visibilityTimeoutMs;
    // Start at a rotating group so that no group starves.
    for (let g = 0; g < groups.length && out.length < options.max; g++) {
      const group = groups[(this.cursor + g) % groups.length]!;
      if (this.blocked.has(group)) continue;
      const q = this.groups.get(group)!;
      for (const h of q) {
        if (out.length >= options.max) break;
        const receipt = `r${this.nextReceipt++}`;
        h.receipt = receipt;
        h.attempt++;
        this.inFlight.set(receipt, h);
        this.blocked.set(group, (this.blocked.get(group) ?? 0) + 1);
        h.visibleAt = visibleAt;
        this.armSweeper(options.visibilityTimeoutMs);
        const fields = { id: h.id, group, attempt: h.attempt, receipt };
        out.push(typeof h.body === 'string' ? { ...fields, body: h.body } : carry(fields, h.body));
      }
    }
    this.cursor++;
    return out;
  }

  private makeVisible(receipt: string): void {
    const h = this.inFlight.get(receipt);
    if (h === undefined) return;
    this.inFlight.delete(receipt);
    h.receipt = undefined;
    this.unblock(h.group);
  }

  private armSweeper(ms: number): void {
    if (this.sweeper !== undefined) return;
    this.sweeper = this.clock.setTimeout(
      () => {
        this.sweeper = undefined;
        const now = this.clock.now();
        let next = Number.POSITIVE_INFINITY;
        for (const [receipt, h] of this.inFlight) {
          if (h.visibleAt <= now) this.makeVisible(receipt);
          else next = Math.min(next, h.visibleAt);
        }
        if (next !== Number.POSITIVE_INFINITY) this.armSweeper(next - now);
        this.wake();
      },
      Math.max(0, ms),
    );
  }

  private unblock(group: string): void {
    const n = (this.blocked.get(group) ?? 1) - 1;
    if (n <= 0) this.blocked.delete(group);
    else this.blocked.set(group, n);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Forgets expired de-duplication ids; the Map is in expiry order, so this stops at the first live one. */
  private pruneDedup(now: number): void {
    for (const [k, until] of this.dedup) {
      if (until > now) break;
      this.dedup.delete(k);
    }
  }
}
