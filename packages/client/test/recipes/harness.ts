import {
  type Channel,
  type ChannelMessage,
  createEmbeddedService,
  decodeMessage,
  type EmbeddedService,
  type EmbeddedServiceOptions,
  ManualClock,
  type Queue,
  settle,
  type WriteRequest,
} from '@faaskeeper/core';
import { vi } from 'vitest';
import type { FaaSKeeperClient } from '../../src/index.js';

/** Session timing of the recipe tests: short, so that expiry takes few clock steps. */
export const SESSION_TIMEOUT_MS = 3000;
export const HEARTBEAT_INTERVAL_MS = 500;
export const CLOCK_SKEW_MS = 1000;
/** Clock time after which a silent session has surely expired. */
export const EXPIRY_MS = SESSION_TIMEOUT_MS + CLOCK_SKEW_MS + HEARTBEAT_INTERVAL_MS * 2;

/** What a test sees of the deployment's traffic. */
export interface Traffic {
  /** Watch events delivered, per session number. */
  events: Map<number, number>;
  /** Watched reads (watch registrations) sent to the writer, per session number. */
  watchedReads: Map<number, number>;
}

/** A deployment on a ManualClock with `n` clients and traffic counters. */
export interface Harness {
  service: EmbeddedService;
  clock: ManualClock;
  clients: FaaSKeeperClient[];
  traffic: Traffic;
  /** Moves the clock in small steps, letting the deployment work between them (pings keep live sessions alive). */
  advance(ms: number): Promise<void>;
  /** Moves the clock in small steps until `condition` holds (at most `maxMs`). */
  advanceUntil(condition: () => boolean, maxMs?: number): Promise<void>;
  /** Expires `client`'s session: cut it off, let the heartbeat end it, reconnect it to hear the news. */
  expire(client: FaaSKeeperClient): Promise<void>;
  close(): Promise<void>;
}

const bump = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1);

/** Counts watch events per session on the way to the clients. */
function countingChannel(channel: Channel, traffic: Traffic): Channel {
  return {
    maxMessageBytes: channel.maxMessageBytes,
    send: async (session, messages, inc, tag) => {
      for (const m of messages)
        if (decodeMessage<ChannelMessage>(m).body.type === 'event') bump(traffic.events, session);
      return channel.send(session, messages, inc, tag);
    },
    subscribe: (session, on, inc, tag) => channel.subscribe(session, on, inc, tag),
    remove: (session, inc, tag) => channel.remove(session, inc, tag),
  };
}

/** Counts watch registrations per session on the way to the writer. */
function countingWriterQueue(queue: Queue, traffic: Traffic): Queue {
  return {
    name: queue.name,
    capabilities: queue.capabilities,
    send: async (messages) => {
      await queue.send(messages);
      for (const m of messages) {
        const r = decodeMessage<WriteRequest>(m.body);
        if (r.op.type === 'watchedRead') bump(traffic.watchedReads, r.session);
      }
    },
    receive: (o) => queue.receive(o),
    ack: (r) => queue.ack(r),
    release: (r) => queue.release(r),
    // The runtime wakes its long poll through this on stop; without it, close() would wait for the clock.
    interrupt: () => (queue as Queue & { interrupt?: () => void }).interrupt?.(),
  } as Queue;
}

/** Starts a deployment with `n` connected clients. */
export async function harness(
  n: number,
  options: Omit<EmbeddedServiceOptions, 'clock'> & { operationTimeoutMs?: number } = {},
): Promise<Harness> {
  const clock = new ManualClock();
  const traffic: Traffic = { events: new Map(), watchedReads: new Map() };
  const wrapChannel = options.wrap?.channel;
  const service = createEmbeddedService({
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    clockSkewMs: CLOCK_SKEW_MS,
    // Channels unsealed: the traffic counters read each message's kind on its way to the client.
    channelSecret: false,
    ...options,
    clock,
    wrap: {
      ...options.wrap,
      channel: (c) => countingChannel(wrapChannel ? wrapChannel(c) : c, traffic),
      writerQueue: (q) => countingWriterQueue(q, traffic),
    },
  });
  const clients: FaaSKeeperClient[] = [];
  for (let i = 0; i < n; i++) clients.push(await service.connect({ sessionId: 1000 + i }));
  const advance = async (ms: number) => {
    for (let left = ms; left > 0; left -= 250) {
      await clock.advance(Math.min(250, left));
      await settle(10);
    }
  };
  return {
    service,
    clock,
    clients,
    traffic,
    advance,
    async advanceUntil(condition, maxMs = 60_000) {
      for (let t = 0; !condition(); t += 250) {
        if (t >= maxMs) throw new Error('condition not reached in clock time');
        await advance(250);
      }
    },
    async expire(client) {
      service.partition(client);
      await advance(EXPIRY_MS);
      service.heal(client);
      await eventually(() => client.state === 'EXPIRED');
    },
    close: () => service.close(),
  };
}

/**
 * Waits until `condition` holds, letting the in-memory deployment run between checks (no
 * wall-clock sleeps: only pending callbacks and immediates run).
 */
export async function eventually(condition: () => boolean, rounds = 5000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (condition()) return;
    await settle(1);
  }
  throw new Error('condition not reached');
}

/**
 * Waits until `condition` holds, in real time: only for what the client's send back-off delays
 * (it retries a failed send after a real-time pause of up to 1 s, not on the injected clock).
 */
export async function eventuallyAfterBackoff(condition: () => boolean): Promise<void> {
  await vi.waitFor(
    () => {
      if (!condition()) throw new Error('condition not reached');
    },
    { timeout: 5000, interval: 10 },
  );
}

/** Whether `promise` has settled yet (after letting the deployment run a little). */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await settle(20);
  return done;
}
