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

  send(session: number, messages: string[], incarnation?: number): Promise<void> {
    return this.inner.send(session, messages, incarnation);
  }

  subscribe(
    session: number,
    onMessages: (messages: string[]) => void,
    incarnation?: number,
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
    );
  }

  remove(session: number, incarnation?: number): Promise<void> {
    return this.inner.remove(session, incarnation);
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

  it('writes a watch event after the reply of the read that set the watch, when both come in one delivery', async () => {
    for (let round = 0; round < 3; round++) {
      const path = `/watch-order-${round}`;
      const existsXid = 1000 + round * 2;
      // Pipelined in one write: the watched exists and the create that fires its watch.
      const w = new JuteWriter();
      const request = (xid: number, type: number, write: (jw: JuteWriter) => void) => {
        const one = new JuteWriter();
        R.RequestHeader.write(one, { xid, type });
        write(one);
        w.bytes(one.frame());
      };
      request(existsXid, OpCode.exists, (jw) => R.PathWatchRequest.write(jw, { path, watch: true }));
      request(existsXid + 1, OpCode.create, (jw) => R.CreateRequest.write(jw, createReq(path)));
      a.socket.write(w.finish());
      const seen: string[] = [];
      while (seen.length < 3) {
        const r = new JuteReader(await a.frame());
        const h = R.ReplyHeader.read(r);
        seen.push(h.xid === -1 ? `event ${R.WatcherEvent.read(r).type}` : `reply ${h.xid} ${h.err}`);
      }
      expect(seen).toEqual([
        `reply ${existsXid} ${Err.NONODE}`,
        `event ${EventType.NodeCreated}`,
        `reply ${existsXid + 1} ${Err.OK}`,
      ]);
    }
  });
});
