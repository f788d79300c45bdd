import { type ClientConfig, PubSub, type protos, v1 } from '@google-cloud/pubsub';
import { GrpcStatus, grpcCode, guard, NO_LIBRARY_RETRY, translateError } from './errors.js';

/** A message as a pull answers it. */
export type PulledMessage = protos.google.pubsub.v1.IReceivedMessage;

/** How an adapter gets its Pub/Sub client: a ready one, or the config to make one (never both). */
export type PubSubClientOption =
  | { pubsub: PubSub; config?: never }
  | { config: ClientConfig; pubsub?: never };

/**
 * The low-level clients an adapter uses. Synchronous pull, explicit ack deadlines and ordered
 * multi-message publishes are only in the generated v1 clients; they share the PubSub object's
 * endpoint and credentials (insecure for an emulator).
 */
export interface PubSubClients {
  pubsub: PubSub;
  projectId: string;
  publisher: v1.PublisherClient;
  subscriber: v1.SubscriberClient;
}

const cache = new WeakMap<PubSub, Promise<PubSubClients>>();

/** The shared low-level clients of a PubSub object (made once per object). */
export function pubsubClients(option: PubSubClientOption): Promise<PubSubClients> {
  const pubsub = option.pubsub ?? new PubSub(option.config);
  let clients = cache.get(pubsub);
  if (clients === undefined) {
    clients = guard('connect to Pub/Sub', async () => {
      // The generated clients take the PubSub object's resolved options (endpoint, emulator credentials).
      const config = (await pubsub.getClientConfig()) as ConstructorParameters<typeof v1.PublisherClient>[0];
      return {
        pubsub,
        projectId: pubsub.projectId,
        publisher: new v1.PublisherClient(config),
        subscriber: new v1.SubscriberClient(config),
      };
    });
    cache.set(pubsub, clients);
  }
  return clients;
}

/** Closes the low-level clients made for `pubsub` (their gRPC channels). */
export async function closePubSubClients(pubsub: PubSub): Promise<void> {
  const clients = cache.get(pubsub);
  if (clients === undefined) return;
  cache.delete(pubsub);
  const c = await clients.catch(() => undefined);
  await Promise.allSettled([c?.publisher.close(), c?.subscriber.close(), pubsub.close()]);
}

/** `projects/<p>/topics/<name>`. */
export function topicPath(c: PubSubClients, name: string): string {
  return `projects/${c.projectId}/topics/${name}`;
}

/** `projects/<p>/subscriptions/<name>`. */
export function subscriptionPath(c: PubSubClients, name: string): string {
  return `projects/${c.projectId}/subscriptions/${name}`;
}

/** Runs an admin call, treating ALREADY_EXISTS (create) and NOT_FOUND (delete) as done. */
export async function idempotent(what: string, call: () => Promise<unknown>, ok: number): Promise<void> {
  await guard(what, async () => {
    try {
      await call();
    } catch (error) {
      if (grpcCode(error) !== ok) throw error;
    }
  });
}

/** Creates a topic if it does not exist yet. */
export async function ensureTopic(c: PubSubClients, topic: string): Promise<void> {
  await idempotent(
    `create topic ${topic}`,
    () => c.publisher.createTopic({ name: topicPath(c, topic) }),
    GrpcStatus.ALREADY_EXISTS,
  );
}

/**
 * Creates an ordered push subscription that POSTs each message to `endpoint` (and sets the endpoint
 * of an existing one). Pub/Sub pushes the next message of an ordering key only after the previous
 * one was answered 2xx; a refusal is pushed again after the retry policy's back-off.
 */
export async function ensurePushSubscription(
  c: PubSubClients,
  topic: string,
  subscription: string,
  endpoint: string,
  options: { ackDeadlineSeconds?: number; minimumBackoffMs?: number; maximumBackoffMs?: number } = {},
): Promise<void> {
  await ensureTopic(c, topic);
  const name = subscriptionPath(c, subscription);
  const duration = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });
  await idempotent(
    `create push subscription ${subscription}`,
    () =>
      c.subscriber.createSubscription({
        name,
        topic: topicPath(c, topic),
        enableMessageOrdering: true,
        ackDeadlineSeconds: options.ackDeadlineSeconds ?? 60,
        pushConfig: { pushEndpoint: endpoint },
        retryPolicy: {
          minimumBackoff: duration(options.minimumBackoffMs ?? 1000),
          maximumBackoff: duration(options.maximumBackoffMs ?? 10_000),
        },
      }),
    GrpcStatus.ALREADY_EXISTS,
  );
  await guard(`point ${subscription} at ${endpoint}`, () =>
    c.subscriber.modifyPushConfig({ subscription: name, pushConfig: { pushEndpoint: endpoint } }),
  );
}

/** Creates a topic and an ordered pull subscription on it, if they do not exist yet. */
export async function ensureTopicAndSubscription(
  c: PubSubClients,
  topic: string,
  subscription: string,
  options: { ackDeadlineSeconds?: number; expireAfterDays?: number } = {},
): Promise<void> {
  await ensureTopic(c, topic);
  await idempotent(
    `create subscription ${subscription}`,
    () =>
      c.subscriber.createSubscription({
        name: subscriptionPath(c, subscription),
        topic: topicPath(c, topic),
        enableMessageOrdering: true,
        ackDeadlineSeconds: options.ackDeadlineSeconds ?? 10,
        ...(options.expireAfterDays === undefined
          ? {}
          : { expirationPolicy: { ttl: { seconds: options.expireAfterDays * 86_400 } } }),
      }),
    GrpcStatus.ALREADY_EXISTS,
  );
}

/**
 * Pub/Sub bills throughput with a minimum of 1000 bytes per publish request and per pull
 * response; a message counts its data, attributes and ordering key.
 */
export function billableBytes(sizes: number[]): number {
  return Math.max(
    1000,
    sizes.reduce((a, b) => a + b, 0),
  );
}

/** A pull in progress that can be cancelled (a consumer that stops). */
export interface PullCall {
  result: Promise<PulledMessage[]>;
  cancel(): void;
}

/**
 * One synchronous pull. With `waitMs` > 0 it long-polls, ended by the call's own timeout: a timeout
 * or a cancel answers an empty list, not an error.
 */
export function pull(c: PubSubClients, subscription: string, max: number, waitMs: number): PullCall {
  const call = c.subscriber.pull(
    { subscription, maxMessages: max, returnImmediately: waitMs <= 0 },
    // Never retried by the library: both callers retry a failed pull themselves (the channel's
    // subscription loop, the core's queue poller), so a library retry would stack under theirs.
    waitMs > 0 ? { timeout: waitMs, ...NO_LIBRARY_RETRY } : NO_LIBRARY_RETRY,
  ) as unknown as Promise<[protos.google.pubsub.v1.IPullResponse]> & { cancel?: () => void };
  const result = call.then(
    ([response]) => response.receivedMessages ?? [],
    (error: unknown) => {
      const code = grpcCode(error);
      if (code === GrpcStatus.DEADLINE_EXCEEDED || code === GrpcStatus.CANCELLED) return [];
      throw translateError(error, `pull from ${subscription}`);
    },
  );
  return { result, cancel: () => call.cancel?.() };
}
