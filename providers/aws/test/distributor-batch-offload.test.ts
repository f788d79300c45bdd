// Where large queue bodies go in the bucket. A distributor batch carries node data in clear (of
// protected nodes too), so one over the SQS limit must not land where clients may read: it goes to
// `function-bodies/`, which no client grant names (the template tests pin the grants), while the
// sealed bodies clients and channels offload stay under `sqs-bodies/`. The real SDK clients run;
// a middleware takes each PutObject and SendMessageBatch before it leaves, so no emulator is needed.
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../src/aws-clients.js';
import { createAwsPorts, FUNCTION_BODIES_PREFIX } from '../src/config.js';
import { BUCKET_PREFIXES } from '../src/deploy/stack.js';
import { prodConfig } from './memory-ports.js';

const config = prodConfig;

/** Ports whose S3 puts and SQS batch sends are recorded instead of sent. */
function recordingPorts() {
  const clients = createAwsClients({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const putKeys: string[] = [];
  const pointers: (MessageAttributeValue | undefined)[] = [];
  clients.s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutObjectCommand') return next(args);
      putKeys.push((args.input as { Key: string }).Key);
      return { output: { $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'recordPut' },
  );
  clients.sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      const entries = (
        args.input as { Entries: { MessageAttributes?: Record<string, MessageAttributeValue> }[] }
      ).Entries;
      for (const e of entries) pointers.push(Object.values(e.MessageAttributes ?? {})[0]);
      return { output: { $metadata: {}, Successful: [], Failed: [] }, response: {} };
    },
    { step: 'initialize', name: 'recordSend' },
  );
  return { ports: createAwsPorts(config, clients), putKeys, pointers, clients };
}

describe('large queue bodies in the bucket', () => {
  it('a distributor batch over the SQS limit (1 MiB) goes to function-bodies/, out of every client grant; a large request to sqs-bodies/', async () => {
    const { ports, putKeys, pointers, clients } = recordingPorts();
    try {
      const big = 'x'.repeat(1024 * 1024 + 1); // past SQS's 1 MiB
      await ports.distributorQueue.send([{ body: big, group: 'distributor', dedupId: 'batch-1' }]);
      await ports.writerQueue.send([{ body: big, group: 'writer', dedupId: '5:1' }]);
      expect(putKeys).toHaveLength(2);
      expect(putKeys[0]!.startsWith(FUNCTION_BODIES_PREFIX)).toBe(true);
      expect(putKeys[1]!.startsWith(BUCKET_PREFIXES.offloadedBodies)).toBe(true);
      // The message names the object it points to, so the distributor reads it whatever the prefix.
      expect(pointers[0]?.StringValue).toBe(putKeys[0]);
      expect(BUCKET_PREFIXES.functionBodies).toBe(FUNCTION_BODIES_PREFIX);
      expect(FUNCTION_BODIES_PREFIX.startsWith(BUCKET_PREFIXES.offloadedBodies)).toBe(false);
    } finally {
      clients.destroy();
    }
  });
});
