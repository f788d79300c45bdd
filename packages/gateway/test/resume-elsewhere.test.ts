/**
 * A ZooKeeper client keeps its session when it reconnects through another gateway process: both
 * gateways share nothing but the deployment and the password secret. Run on the embedded
 * deployment, on the local AWS stack (an SQS queue per session incarnation, the gateways' group
 * leases on DynamoDB) and on the local GCP stack (a Pub/Sub subscription per incarnation, lease
 * renewals through the lease topic).
 */
import { createLocalAwsDeployment } from '@faaskeeper/aws/local';
import { createEmbeddedService } from '@faaskeeper/core';
import { requireOrSkip } from '@faaskeeper/core/testkit';
import {
  createLocalGcpDeployment,
  type LocalGcpStack,
  missingEmulators,
  startLocalGcpStack,
} from '@faaskeeper/gcp/local';
import zookeeper from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { Err, OpCode } from '../src/codes.js';
import { type Gateway, type GatewayDeployment, startGateway } from '../src/index.js';
import * as R from '../src/jute/records.js';
import { localStackHandle, requireStack } from './aws/support.js';
import { call, connectZk, long, next, startProxy } from './nzc-helpers.js';
import { bytes, closedBy, createReq, RawClient, sleep, waitUntil } from './raw-client.js';

/** A deployment both gateways serve; `close` releases it. */
type Shared = GatewayDeployment & { close(): Promise<void> };

interface Target {
  name: string;
  /** Why the deployment cannot run here (undefined: it can). */
  missing: string | undefined;
  open(): Promise<Shared>;
  /** True when the test can run; skips it (fails it on CI) otherwise. */
  runs(ctx: TestContext): boolean;
}

function describeResumeElsewhere(target: Target): void {
  describe(`a session resumed through another gateway process (${target.name})`, { timeout: 90_000 }, () => {
    let shared: Shared | undefined;
    let one: Gateway;
    let two: Gateway;
    beforeAll(async () => {
      if (target.missing !== undefined) return;
      shared = await target.open();
      const options = {
        port: 0,
        deployment: shared,
        secret: 'shared',
        minSessionTimeoutMs: 1000,
        log: () => undefined,
      };
      one = await startGateway(options);
      two = await startGateway(options);
    }, 90_000);
    afterAll(async () => {
      if (shared === undefined) return;
      await one.close();
      await two.close();
      await shared.close();
    }, 60_000);

    it('keeps its ephemeral and its watch when the client reconnects through the other process', async (ctx) => {
      if (!target.runs(ctx)) return;
      const proxy = await startProxy({ host: '127.0.0.1', port: one.port });
      const zk = await connectZk(proxy.connectString, { sessionTimeout: 3000 });
      const other = await RawClient.open(two.port);
      try {
        const id = zk.getSessionId();
        await call((cb) => zk.create('/moving-eph', Buffer.from('e'), zookeeper.CreateMode.EPHEMERAL, cb));
        await call((cb) => zk.create('/moving-w', Buffer.from('v0'), cb));
        const fired: string[] = [];
        await call((cb) =>
          zk.getData(
            '/moving-w',
            (event: zookeeper.Event) => fired.push(`${event.getName()} ${event.getPath()}`),
            cb,
          ),
        );
        // The network to gateway one fails; the client's next connection reaches gateway two.
        proxy.retarget({ host: '127.0.0.1', port: two.port });
        const reconnected = next<void>(
          (deliver) => zk.once('connected', () => deliver()),
          10_000,
          'the reconnect',
        );
        proxy.cut();
        await reconnected;
        expect(zk.getSessionId().equals(id)).toBe(true);
        expect(zk.getState()).toBe(zookeeper.State.SYNC_CONNECTED);
        // The ephemeral is still the session's.
        const [, stat] = await call<[Buffer, zookeeper.Stat]>((cb) => zk.getData('/moving-eph', cb));
        expect(long(stat.ephemeralOwner)).toBe(Number(id.readBigInt64BE(0)));
        // The watch set through gateway one fires, once, through gateway two.
        await other.call(OpCode.setData, R.SetDataRequest, {
          path: '/moving-w',
          data: bytes('v1'),
          version: -1,
        });
        await other.call(OpCode.setData, R.SetDataRequest, {
          path: '/moving-w',
          data: bytes('v2'),
          version: -1,
        });
        // Through the emulators' channels on a loaded machine the event can take seconds: waited for.
        await waitUntil(() => fired.length > 0, 'the watch event through gateway two', 30_000);
        await sleep(300);
        expect(fired).toEqual(['NODE_DATA_CHANGED /moving-w']);
        // Gateway one gave the session up: the end of its reconnect grace (the session timeout) does
        // not end the session.
        await sleep(3500);
        const seen = await other.call(OpCode.exists, R.PathWatchRequest, {
          path: '/moving-eph',
          watch: false,
        });
        expect(seen.err).toBe(Err.OK);
        expect(zk.getState()).toBe(zookeeper.State.SYNC_CONNECTED);
        await call((cb) => zk.setData('/moving-w', Buffer.from('mine'), -1, cb));
        // And back through gateway one: it takes the session over again.
        proxy.retarget({ host: '127.0.0.1', port: one.port });
        const back = next<void>((deliver) => zk.once('connected', () => deliver()), 10_000, 'the move back');
        proxy.cut();
        await back;
        expect(zk.getSessionId().equals(id)).toBe(true);
        await call((cb) => zk.setData('/moving-w', Buffer.from('back'), -1, cb));
        const [, again] = await call<[Buffer, zookeeper.Stat]>((cb) => zk.getData('/moving-eph', cb));
        expect(long(again.ephemeralOwner)).toBe(Number(id.readBigInt64BE(0)));
        // Its close through gateway two ends the session: the ephemeral goes.
        await new Promise<void>((resolve) => {
          zk.once('disconnected', () => resolve());
          zk.close();
        });
        await waitUntil(
          async () =>
            (await other.call(OpCode.exists, R.PathWatchRequest, { path: '/moving-eph', watch: false }))
              .err === Err.NONODE,
          'the ephemeral to go',
          30_000,
        );
        const gone = await other.call(OpCode.exists, R.PathWatchRequest, {
          path: '/moving-eph',
          watch: false,
        });
        expect(gone.err).toBe(Err.NONODE);
      } finally {
        zk.close();
        other.close();
        await proxy.close();
      }
    });

    it('answers a wrong password Expired', async (ctx) => {
      if (!target.runs(ctx)) return;
      const c = await RawClient.open(one.port);
      try {
        await c.call(OpCode.create, R.CreateRequest, createReq('/wrong-pw-eph', 1));
        const wrong = new Uint8Array(c.connect.passwd);
        wrong[0] = (wrong[0] ?? 0) ^ 0xff;
        const x = await RawClient.open(two.port, { sessionId: c.connect.sessionId, passwd: wrong });
        expect(x.connect).toMatchObject({ timeOut: 0, sessionId: 0n });
        await closedBy(x.socket);
        // Nothing moved: the session still serves through gateway one.
        expect(
          (await c.call(OpCode.exists, R.PathWatchRequest, { path: '/wrong-pw-eph', watch: false })).err,
        ).toBe(Err.OK);
      } finally {
        c.close();
      }
    });

    it('answers a session that ended Expired', async (ctx) => {
      if (!target.runs(ctx)) return;
      const c = await RawClient.open(one.port);
      const { sessionId, passwd } = c.connect;
      expect((await c.call(OpCode.closeSession)).err).toBe(Err.OK);
      c.close();
      const x = await RawClient.open(two.port, { sessionId, passwd });
      expect(x.connect).toMatchObject({ timeOut: 0, sessionId: 0n });
      await closedBy(x.socket);
    });
  });
}

describeResumeElsewhere({
  name: 'embedded',
  missing: undefined,
  open: async () => createEmbeddedService(),
  runs: () => true,
});

const stack = localStackHandle();
afterAll(() => stack.stop(), 60_000);
describeResumeElsewhere({
  name: 'local AWS stack',
  missing: stack.missing,
  open: async () => createLocalAwsDeployment({ stack: await stack.stack() }),
  runs: (ctx) => requireStack(ctx, stack),
});

const gcpMissing = missingEmulators();
let gcpStack: Promise<LocalGcpStack> | undefined;
afterAll(async () => {
  // A stack that failed to start has nothing to stop; its start error already failed the test.
  await (await gcpStack?.catch(() => undefined))?.stop();
}, 60_000);
describeResumeElsewhere({
  name: 'local GCP stack',
  missing: gcpMissing,
  open: async () => {
    gcpStack ??= startLocalGcpStack();
    return createLocalGcpDeployment({ stack: await gcpStack });
  },
  runs: (ctx) => requireOrSkip(ctx, gcpMissing, 'the local GCP stack'),
});
