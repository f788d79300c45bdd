import type { ClientTransport } from '../client/client.js';
import type { Channel, ChannelSubscription } from '../ports/channel.js';
import { TransientError } from '../ports/errors.js';
import type { Queue } from '../ports/queue.js';
import type { GroupLeases, LeaseRenewer } from '../ports/session-lease.js';
import type { UserStore } from '../ports/user-store.js';

/**
 * One client's connection to a deployment (embedded or local on emulators), which a test can cut
 * and heal: while cut, the client's sends and reads fail and its channel messages wait (a network
 * partition, or a client that vanished without closing); its lease renewals fail too.
 */
export class Link {
  private cut = false;
  private held: string[][] = [];
  private deliver: ((messages: string[]) => void) | undefined;

  constructor(private readonly inner: ClientTransport) {}

  get isCut(): boolean {
    return this.cut;
  }

  sever(): void {
    this.cut = true;
  }

  heal(): void {
    this.cut = false;
    const held = this.held;
    this.held = [];
    for (const batch of held) this.deliver?.(batch);
  }

  transport(): ClientTransport {
    const guard = () => {
      if (this.cut) throw new TransientError('network partition (injected fault)');
    };
    const q = this.inner.writerQueue;
    const writerQueue: Queue = {
      name: q.name,
      capabilities: q.capabilities,
      send: async (m) => {
        guard();
        return q.send(m);
      },
      receive: (o) => q.receive(o),
      ack: (r) => q.ack(r),
      release: (r) => q.release(r),
    };
    const u = this.inner.userStore;
    const userStore: UserStore = {
      get: async (p, zone) => {
        guard();
        return u.get(p, zone);
      },
      put: (p, r, zone) => u.put(p, r, zone),
      delete: (p, zone) => u.delete(p, zone),
      getWatermark: async () => {
        guard();
        return u.getWatermark();
      },
      putWatermark: (z) => u.putWatermark(z),
      getMarker: async (s) => {
        guard();
        return u.getMarker(s);
      },
      putMarker: (s, e) => u.putMarker(s, e),
      putChild: (e, zone) => u.putChild(e, zone),
      deleteChild: (e, zone) => u.deleteChild(e, zone),
      listChildren: async (p, zone) => {
        guard();
        return u.listChildren(p, zone);
      },
    };
    const c = this.inner.channel;
    const channel: Channel = {
      maxMessageBytes: c.maxMessageBytes,
      ...(c.pausable === undefined ? {} : { pausable: c.pausable }),
      send: (s, m, inc, tag) => c.send(s, m, inc, tag),
      remove: (s, inc, tag) => c.remove(s, inc, tag),
      // A client's bootstrap and secret channels share its one subscriber (client/session-channel.ts).
      subscribe: async (session, onMessages, inc, tag): Promise<ChannelSubscription> => {
        this.deliver = onMessages;
        return c.subscribe(
          session,
          (messages) => {
            if (this.cut) this.held.push(messages);
            else onMessages(messages);
          },
          inc,
          tag,
        );
      },
    };
    const l = this.inner.lease;
    const lease: LeaseRenewer | undefined =
      l === undefined
        ? undefined
        : {
            ...(l.renewalShare === undefined ? {} : { renewalShare: l.renewalShare }),
            renew: async (lease, renewal) => {
              guard();
              return l.renew(lease, renewal);
            },
            ...(l.groups === undefined ? {} : { groups: guardedGroups(l.groups, guard) }),
          };
    return lease === undefined
      ? { writerQueue, userStore, channel }
      : { writerQueue, userStore, channel, lease };
  }
}

/** `groups` whose every call fails first while the link is cut (`guard` throws). */
function guardedGroups(groups: GroupLeases, guard: () => void): GroupLeases {
  return {
    renewGroup: async (group, at) => {
      guard();
      return groups.renewGroup(group, at);
    },
    join: async (lease, group, membership) => {
      guard();
      return groups.join(lease, group, membership);
    },
    leave: async (lease, group, at) => {
      guard();
      return groups.leave(lease, group, at);
    },
  };
}
