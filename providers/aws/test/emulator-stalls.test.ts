// Core's session guarantees on the local AWS stack while DynamoDB Local stalls: its JVM is stopped
// (SIGSTOP, by the PID the stack recorded) for 600 ms of every 1.5 s, as a loaded machine or a
// garbage collection stalls it. A live client's lease renewals then reach DynamoDB late; the test's
// clock must not run ahead of them (the target paces each step by a round trip to the emulators),
// or a session that kept renewing would be expired by a clock that outran its renewals. Without
// that pacing this file fails: the live idle session is expired.
import { describeSessionsGuarantees } from '@faaskeeper/core/testkit';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { localAwsStackMissing } from '../src/local/local-stack.js';
import { localAwsTarget } from '../src/local/target.js';
import { requireLocalStack, useLocalStack } from './support.js';

const STALL_MS = 600;
const EVERY_MS = 1_500;

const stack = useLocalStack();
let timer: NodeJS.Timeout | undefined;
let resume: NodeJS.Timeout | undefined;
let pid: number | undefined;
beforeEach((ctx) => {
  requireLocalStack(ctx);
});
beforeAll(async () => {
  if (localAwsStackMissing() !== undefined) return;
  const stalled = (await stack()).stack.pids.dynamodb;
  pid = stalled;
  timer = setInterval(() => {
    process.kill(stalled, 'SIGSTOP');
    resume = setTimeout(() => process.kill(stalled, 'SIGCONT'), STALL_MS);
  }, EVERY_MS);
}, 60_000);
afterAll(() => {
  clearInterval(timer);
  clearTimeout(resume);
  if (pid !== undefined) process.kill(pid, 'SIGCONT');
});
describeSessionsGuarantees(localAwsTarget(async () => (await stack()).stack));
