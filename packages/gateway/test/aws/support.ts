/**
 * The gateway in front of a FaaSKeeper deployment on the local AWS stack (DynamoDB Local and fauxqs
 * on 127.0.0.1, the real writer/distributor/heartbeat handlers run in-process): what the AWS side of
 * the compatibility tests and the idle-session cost measurement start once per file.
 */

import { randomBytes } from 'node:crypto';
import {
  createLocalAwsDeployment,
  type LocalAwsDeployment,
  type LocalAwsDeploymentOptions,
  type LocalAwsStack,
  localAwsStackMissing,
  startLocalAwsStack,
} from '@faaskeeper/aws/local';
import { requireOrSkip, type SkippableContext } from '@faaskeeper/core/testkit';
import { type Gateway, type GatewayLogEntry, startGateway } from '@faaskeeper/gateway';

/** A local AWS stack of one test file; `missing` says why it cannot run here (undefined: it can). */
export interface AwsStackHandle {
  readonly missing: string | undefined;
  /** The running stack; throws when {@link AwsStackHandle.missing} is set. */
  stack(): Promise<LocalAwsStack>;
  /** Stops the stack, by the PIDs it started, if it was started. */
  stop(): Promise<void>;
}

/** A stack started on first use (a JVM and a Node process: seconds, so once per file). */
export function localStackHandle(): AwsStackHandle {
  const missing = localAwsStackMissing();
  let started: Promise<LocalAwsStack> | undefined;
  return {
    missing,
    stack() {
      if (missing !== undefined)
        return Promise.reject(new Error(`the local AWS stack cannot run: ${missing}`));
      started ??= startLocalAwsStack();
      return started;
    },
    async stop() {
      if (started === undefined) return;
      // A stack that failed to start has nothing to stop; its start error already failed the test.
      const stack = await started.catch(() => undefined);
      await stack?.stop();
    },
  };
}

/** True when the test can run; skips it (fails it on CI) when the local AWS stack cannot run here. */
export function requireStack(ctx: SkippableContext, handle: AwsStackHandle): boolean {
  return requireOrSkip(ctx, handle.missing, 'the local AWS stack');
}

/** A gateway serving a fresh deployment on the stack, and the warnings it logged. */
export interface AwsGateway {
  readonly deployment: LocalAwsDeployment;
  readonly gateway: Gateway;
  readonly connectString: string;
  /** Gateway log lines at `warn` or `error`: a test may assert there were none. */
  readonly problems: GatewayLogEntry[];
  /** Closes the gateway (its sessions end, their ephemerals go), then deletes the deployment. */
  close(): Promise<void>;
}

/** Deploys FaaSKeeper on `stack` and puts a gateway (127.0.0.1, any free port) in front of it. */
export async function startAwsGateway(
  stack: LocalAwsStack,
  options: Omit<LocalAwsDeploymentOptions, 'stack'> = {},
): Promise<AwsGateway> {
  const deployment = await createLocalAwsDeployment({ ...options, stack });
  const problems: GatewayLogEntry[] = [];
  let gateway: Gateway;
  try {
    gateway = await startGateway({
      deployment,
      port: 0,
      // A secret of the test's own: without one the gateway warns that it picked a random one.
      secret: randomBytes(32),
      log: (line) => {
        if (line.level === 'warn' || line.level === 'error') problems.push(line);
      },
    });
  } catch (error) {
    await deployment.close();
    throw error;
  }
  return {
    deployment,
    gateway,
    connectString: gateway.connectString,
    problems,
    async close() {
      await gateway.close();
      await deployment.close();
    },
  };
}
