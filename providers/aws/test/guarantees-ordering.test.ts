// The core's guarantee suite on the local AWS stack (ordered notifications, atomic reads and
// multi): the same tests as on the embedded deployment, on DynamoDB Local, S3 and SQS FIFO (fauxqs)
// with the real Lambda handlers. The suite is split over four files (guarantees-*.test.ts), each
// with its own stack, so that vitest can run them in parallel.
import {
  describeAtomicReadsGuarantees,
  describeMultiGuarantees,
  describeOrderingGuarantees,
} from '@faaskeeper/core/testkit';
import { beforeEach, describe } from 'vitest';
import { localAwsTarget } from '../src/local/index.js';
import { requireLocalStack, useLocalStack } from './support.js';

const stack = useLocalStack();
const target = localAwsTarget(async () => (await stack()).stack);

describe('guarantees on the local AWS stack', () => {
  // Skips each test with a message where the emulators cannot run (fails on CI instead). Once the
  // stack is known to run, the check (which starts a JVM) is not repeated.
  let available = false;
  beforeEach((ctx) => {
    if (!available) available = requireLocalStack(ctx);
  });
  describeOrderingGuarantees(target);
  describeAtomicReadsGuarantees(target);
  describeMultiGuarantees(target);
});
