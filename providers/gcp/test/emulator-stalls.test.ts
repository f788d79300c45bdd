// Core's session guarantees on the local GCP stack while its Pub/Sub emulator stalls: the JVM is
// stopped (SIGSTOP, by the PID the stack recorded) for 600 ms of every 1.5 s, as a loaded machine or
// a garbage collection stalls it. A live client's renewals then reach Pub/Sub late; the test's clock
// must not run ahead of them (the target paces each step by a round trip to the emulators), or a
// session that kept renewing would be expired by a clock that outran its renewals. Without that
// pacing this file fails: the live idle session is expired.
import { describeSessionsGuarantees } from '@faaskeeper/core/testkit';
import { afterAll, beforeAll } from 'vitest';
import { localGcpTarget } from '../src/local/index.js';
import { missing, whenEmulators } from './support.js';

const STALL_MS = 600;
const EVERY_MS = 1_500;

whenEmulators((stack) => {
  let timer: NodeJS.Timeout | undefined;
  let resume: NodeJS.Timeout | undefined;
  beforeAll(() => {
    const pid = stack().pubsub.pid;
    timer = setInterval(() => {
      process.kill(pid, 'SIGSTOP');
      resume = setTimeout(() => process.kill(pid, 'SIGCONT'), STALL_MS);
    }, EVERY_MS);
  });
  afterAll(() => {
    clearInterval(timer);
    clearTimeout(resume);
    if (missing === undefined) process.kill(stack().pubsub.pid, 'SIGCONT');
  });
  describeSessionsGuarantees(localGcpTarget(stack, { invocation: 'push', userStore: 'datastore' }));
});
