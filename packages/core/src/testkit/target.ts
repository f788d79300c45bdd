import type { Deployment, DeploymentOptions } from '../deployment/deployment.js';
import { createEmbeddedService } from '../embedded/embedded-service.js';
import { settle } from '../memory/manual-clock.js';

/**
 * A running deployment as the portable suites see it (guarantee tests, randomised fault runs): the
 * embedded deployment, or a local one on a cloud's emulators — core's {@link Deployment}, whose
 * `clock` is the one passed in `DeploymentOptions.clock`. Nothing here reaches into one provider's
 * internals.
 */
export type TestDeployment = Omit<Deployment, 'ready'>;

/**
 * Where a portable suite runs: how to start a fresh deployment, and how long things take there.
 * The same test, given another target, checks the same guarantee on another provider.
 */
export interface DeploymentTarget {
  /** Shown in suite names: `embedded`, `aws (local)`, `gcp push (local)`. */
  readonly name: string;
  /** Starts a fresh, empty deployment (its own tables/namespace/queues) with these options. */
  deploy(options: DeploymentOptions): Promise<TestDeployment>;
  /**
   * Lets the work a step caused run to where it waits on something new (a clock step, a send):
   * a few microtask turns in memory, a few milliseconds of real time against emulators.
   */
  settle(): Promise<void>;
  /**
   * Waits long enough that something which must NOT happen (a read that must wait, an event that
   * must not arrive yet) would very likely have happened were the guarantee broken.
   */
  quiet(): Promise<void>;
  /** Wall-time budget of one test on this target, in ms (vitest's per-test timeout). */
  readonly testTimeoutMs: number;
  /**
   * True when `deploy()` also honours `EmbeddedServiceOptions.functionClocks` (a clock per function:
   * the randomised runs skew the writer's and heartbeat's clocks). Absent: every function runs on
   * `clock`, and those runs leave clock skew out (and say so).
   */
  readonly functionClocks?: boolean;
  /**
   * True when a client's replies come back in the order of its requests, as ZooKeeper's wire
   * protocol has them (a ZooKeeper client matches each reply to its oldest pending request): a
   * read then cannot complete while an earlier read of the same client waits, and the tests that
   * need one read to pass another waiting one make the passing read on a client of its own.
   * Absent: a client's reads complete as their data allows, a later one possibly first.
   */
  readonly inOrderReplies?: boolean;
  /**
   * False when an error reaches the client as its code only (ZooKeeper's wire protocol): its
   * `path` is then the path of the request, not the node the error names (the missing parent of
   * a create). Absent: the error names its node.
   */
  readonly errorPaths?: boolean;
}

/** The embedded deployment as a {@link DeploymentTarget}: everything in memory, in this process. */
export const embeddedTarget: DeploymentTarget = {
  name: 'embedded',
  deploy: async (options) => {
    const service = createEmbeddedService(options);
    await service.ready;
    return service;
  },
  settle: () => settle(3),
  quiet: () => settle(20),
  testTimeoutMs: 5_000,
  functionClocks: true,
};
