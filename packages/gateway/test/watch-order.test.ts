/**
 * A watch event reaches the ZooKeeper client after the reply of the read that set the watch, even
 * when the core client takes that reply and the event in one channel delivery (as an SQS receive
 * of several messages, or one message of a writer batch holding both the read and the change).
 * A ZooKeeper client registers an exists/getData/getChildren watcher when the reply comes and
 * drops an event that comes first: kazoo's Barrier and DoubleBarrier then wait forever.
 */
import {
  type Channel,
  type ChannelSubscription,
  createEmbeddedService,
  type EmbeddedService,
} from '@faaskeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Err, EventType, OpCode } from '../src/codes.js';
import { type Gateway, startGateway } from '../src/index.js';
import { JuteReader, JuteWriter } from '../src/jute/io.js';
import * as R from '../src/jute/records.js';
import { createReq, RawClient } from './raw-client.js';

/** How long the channel gathers messages before it hands them over together. */
const GATHER_MS = 40;

/**
 * A channel that hands its subscribers what arrives within {@link GATHER_MS} in one delivery, as a
 * long poll that returns several queued messages at once.
 */
class GatheringChannel implements Channel {
  readonly maxMessageBytes: number;
  readonly pausable: boolean;

  constructor(private readonly inner: Channel) {
    this.maxMessageBytes = inner.maxMessageBytes;
    this.pausable = inner.pausable === true;
  }

  send(session: number, messages: string[], incarnation?: number, tag?: string): Promise<void> {
    return this.inner.send(session, messages, incarnation, tag);
  }

  subscribe(
    session: number,
    onMessages: (messages: string[]) => void,
    incarnation?: number,
    tag?: string,
  ): Promise<ChannelSubscription> {
    let gathered: string[] = [];
    let timer: NodeJS.Timeout | undefined;
    return this.inner.subscribe(
      session,
      (messages) => {
        // Copied out as text: the in-process values an array carries stay with that array.
        gathered.push(...messages);
        if (timer !== undefined) return;
        timer = setTimeout(() => {
          timer = undefined;
          const batch = gathered;
          gathered = [];
          onMessages(batch);
        }, GATHER_MS);
      },
      incarnation,
      tag,
    );
  }

  remove(session: number, incarnation?: number, tag?: string): Promise<void> {
    return this.inner.remove(session, incarnation, tag);
  }
}

describe('watch events through the gateway', () => {
  let deployment: EmbeddedService;
  let gw: Gateway;
  let a: RawClient;

  beforeAll(async () => {
    deployment = createEmbeddedService({ wrap: { channel: (c) => new GatheringChannel(c) } });
    gw = await startGateway({ port: 0, deployment, log: () => undefined });
    a = await RawClient.open(gw.port);
  });
  afterAll(async () => {
    a.close();
    await gw.close();
    await deployment.close();
  });

  /**
   * Sends a watched read and the create that fires its watch pipelined in one write, and returns
   * the three frames that come back: the two replies and the event, in the order written.
   */
  async function readThenFire(
    read: { xid: number; type: number; path: string },
    created: string,
  ): Promise<string[]> {
    const w = new JuteWriter();
    const request = (xid: number, type: number, write: (jw: JuteWriter) => void) => {
      const one = new JuteWriter();
      R.RequestHeader.write(one, { xid, type });
      write(one);
      w.bytes(one.frame());
    };
    request(read.xid, read.type, (jw) => R.PathWatchRequest.write(jw, { path: read.path, watch: true }));
    request(read.xid + 1, OpCode.create, (jw) => R.CreateRequest.write(jw, createReq(created)));
    a.socket.write(w.finish());
    const seen: string[] = [];
    while (seen.length < 3) {
      const r = new JuteReader(await a.frame());
      const h = R.ReplyHeader.read(r);
      seen.push(h.xid === -1 ? `event ${R.WatcherEvent.read(r).type}` : `reply ${h.xid} ${h.err}`);
    }
    return seen;
  }

  it('writes a watch event after the reply of the read that set the watch, when both come in one delivery', async () => {
    for (let round = 0; round < 3; round++) {
      const path = `/watch-order-${round}`;
      const xid = 1000 + round * 2;
      expect(await readThenFire({ xid, type: OpCode.exists, path }, path)).toEqual([
        `reply ${xid} ${Err.NONODE}`,
        `event ${EventType.NodeCreated}`,
        `reply ${xid + 1} ${Err.OK}`,
      ]);
    }
  });

  // The core client answers a watched getChildren from a listing made after the read's reply; when
  // the listing already shows the new child, the core takes that child's event first (ordered
  // notifications). The gateway still writes the reply first, as a ZooKeeper server would.
  it('writes a children watch event after the getChildren reply, when the listing already shows the change', async () => {
    for (let round = 0; round < 3; round++) {
      const path = `/children-order-${round}`;
      const xid = 2000 + round * 2;
      const made = await a.call(OpCode.create, R.CreateRequest, createReq(path));
      expect(made.err).toBe(Err.OK);
      expect(await readThenFire({ xid, type: OpCode.getChildren, path }, `${path}/c`)).toEqual([
        `reply ${xid} ${Err.OK}`,
        `event ${EventType.NodeChildrenChanged}`,
        `reply ${xid + 1} ${Err.OK}`,
      ]);
    }
  });
});
