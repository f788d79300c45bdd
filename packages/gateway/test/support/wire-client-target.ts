/**
 * The guarantee suite's deployment target "through the gateway": an embedded deployment with a
 * ZooKeeper protocol gateway in front of it, whose clients are {@link WireClient}s — every call of
 * a guarantee test goes over TCP in ZooKeeper's protocol, through the gateway's translation to a
 * core session, and back.
 */
import { type ClientOptions, createEmbeddedService, type FaaSKeeperClient, settle } from '@faaskeeper/core';
import type { DeploymentTarget, TestDeployment } from '@faaskeeper/core/testkit';
import { startGateway } from '../../src/gateway.js';
import type { GatewayLogEntry } from '../../src/log.js';
import { WireClient } from './wire-client.js';

/** A ZooKeeper data node of 1 MiB plus its request's framing: the suite writes exactly 1 MiB. */
const MAX_FRAME = 2 * 1024 * 1024;

/**
 * The gateway's log, kept quiet: its info and warn lines narrate connections and sessions ending
 * (which every test does on purpose); an error line is printed, as it would point to a bug.
 */
function gatewayLog(line: GatewayLogEntry): void {
  if (line.level === 'error') process.stderr.write(`${JSON.stringify(line)}\n`);
}

/** Runs one connect at a time: see `sessionIdFor` in {@link wireGatewayTarget}. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    // The queue only waits for the turn to end; its failure goes to the caller through `next`.
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * The target. `partition(client)` cuts the gateway's core client of that session off from the
 * deployment (the embedded deployment's partition), its lease renewals too (each session renews
 * its own here, `shareLease: false`): the link a FaaSKeeper deployment can lose is
 * between the session's client — here the gateway, which speaks for the ZooKeeper client — and the
 * functions and stores; the ZooKeeper client then sees what the gateway makes of it (CONNECTIONLOSS
 * replies, then Expired when the session ended meanwhile). Holding the TCP bytes instead would leave
 * the session alive on the deployment's ManualClock, since the gateway's own idle check runs on
 * real time.
 */
export const wireGatewayTarget: DeploymentTarget = {
  name: 'zookeeper wire protocol via the gateway',
  deploy: async (options) => {
    const service = createEmbeddedService(options);
    await service.ready;
    // The gateway's core client of each session, by session number (= the wire session id).
    const cores = new Map<number, FaaSKeeperClient>();
    // A test may ask for a session id (to hold its channel): the gateway's next core connect opens
    // it. Connects run one at a time so that the id reaches the right session.
    let sessionIdFor: number | undefined;
    const serial = new Serial();
    const gateway = await startGateway({
      deployment: {
        connect: async (o) => {
          const ask = sessionIdFor;
          sessionIdFor = undefined;
          const core = await service.connect({ ...o, ...(ask === undefined ? {} : { sessionId: ask }) });
          cores.set(core.sessionNumber, core);
          return core;
        },
      },
      port: 0,
      secret: 'guarantee-suite',
      // Each session keeps its own lease: the suite's partition cuts one session's link to the
      // deployment (a vanished client), which a lease shared by all the gateway's sessions would
      // outlive. The shared lease has tests of its own (shared-lease.test.ts, core group-leases).
      shareLease: false,
      // The suite's session timeouts (3 s) are below ZooKeeper's default minimum (2 ticks of 2 s).
      minSessionTimeoutMs: 100,
      maxSessionTimeoutMs: 600_000,
      maxBuffer: MAX_FRAME,
      log: gatewayLog,
    });
    const clients = new Set<WireClient>();
    const coreOf = (client: FaaSKeeperClient): FaaSKeeperClient => {
      const core = cores.get(client.sessionNumber);
      if (core === undefined) throw new Error(`no gateway session ${client.sessionNumber}`);
      return core;
    };
    const deployment: TestDeployment = {
      clock: service.clock,
      connect: (o: ClientOptions = {}) =>
        serial.run(async () => {
          sessionIdFor = o.sessionId;
          const client = await WireClient.connect(gateway.port, {
            sessionTimeoutMs: o.sessionTimeoutMs ?? options.sessionTimeoutMs ?? 10_000,
          });
          clients.add(client);
          // The suite's harness is typed with the core client class; a WireClient offers the same
          // public API (what the suite calls), spoken over the wire.
          return client as unknown as FaaSKeeperClient;
        }),
      partition: (client) => service.partition(coreOf(client)),
      heal: (client) => service.heal(coreOf(client)),
      heartbeat: () => service.heartbeat(),
      close: async () => {
        for (const c of clients) c.stop();
        // The deployment first: it stops its clients, partitioned ones too, whose closeSession would
        // otherwise wait for a clock no one advances; the gateway's close then finds them closed.
        await service.close();
        await gateway.close();
      },
    };
    return deployment;
  },
  // TCP on loopback: a round trip through the gateway takes a few event-loop turns with I/O.
  settle: async () => {
    await new Promise((resolve) => setTimeout(resolve, 2));
    await settle(3);
  },
  quiet: async () => {
    await new Promise((resolve) => setTimeout(resolve, 40));
    await settle(20);
  },
  testTimeoutMs: 10_000,
  functionClocks: true,
  // ZooKeeper's protocol: replies in request order, errors as a code without a path.
  inOrderReplies: true,
  errorPaths: false,
};
