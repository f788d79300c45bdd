// What a session's channels cost its client on the local AWS deployment (docs/guarantees.md
// "Availability of a session's channel"): the client's SQS requests to open and close a session,
// counted by the meter, and none more per operation than before (cost.test.ts pins those).
import { CountingMeter, ManualClock, quietMeter } from '@faaskeeper/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalAwsDeployment, type LocalAwsDeployment } from '../src/local/index.js';
import { METER_KEYS } from '../src/meter.js';
import { requireLocalStack, useLocalStack } from './support.js';

const stack = useLocalStack();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until `count()` has reached `atLeast` (within 10 s) and `meter` has then stopped moving: a
 * phase's tail — the delete of a reply, sent after the reply was handed over — is in its own phase
 * however slowly the emulator answers it, and a request beyond `atLeast` still lands there.
 */
async function settled(meter: CountingMeter, count: () => number, atLeast: number): Promise<void> {
  for (let waited = 0; count() < atLeast; waited += 20) {
    if (waited > 10_000) throw new Error(`${count()} SQS requests, not ${atLeast}, within 10 s`);
    await sleep(20);
  }
  await quietMeter(meter);
}

let service: LocalAwsDeployment | undefined;
afterAll(async () => {
  await service?.close();
});

describe("a session's channels on the local AWS deployment", () => {
  it('cost the client a fixed number of SQS requests to open and close a session: the bootstrap queue adds its create and delete', async (ctx) => {
    if (!requireLocalStack(ctx)) return;
    const { stack: s } = await stack();
    const clientMeter = new CountingMeter();
    service = await createLocalAwsDeployment({
      stack: s,
      meter: new CountingMeter(),
      clientMeter,
      clock: new ManualClock(),
      heartbeatIntervalMs: 3_600_000,
    });
    const sqs = () => clientMeter.snapshot()[METER_KEYS.sqsRequest] ?? 0;
    // Warm: the functions have run once, and the warm session's close is over (its open and at
    // least the close's send and receive counted) before the count starts.
    await (await service.connect()).close();
    await settled(clientMeter, sqs, 6 + 2);
    clientMeter.reset();
    // Each phase settles before it is counted: a received message is deleted after it is handed
    // over, so the phase's last request comes after the call returned.
    const zk = await service.connect();
    await settled(clientMeter, sqs, 6);
    const opened = sqs();
    await zk.create('/c', '');
    await settled(clientMeter, () => sqs() - opened, 3);
    const operation = sqs() - opened;
    await zk.close();
    await settled(clientMeter, () => sqs() - opened - operation, 2);
    const closed = sqs() - opened - operation;
    console.log(
      JSON.stringify({ openSqsRequests: opened, createSqsRequests: operation, closeSqsRequests: closed }),
    );
    // Open: create the bootstrap queue, send openSession, receive and delete the reply, create the
    // secret queue, delete the bootstrap queue (with one queue named after the session: 4).
    expect(opened).toBe(6);
    // An operation: send it, receive and delete its reply; the secret queue's URL is known: nothing
    // else, as with one queue. The close: the same, but the delete of its reply races the
    // distributor's removal of the queue (a delete that finds the queue gone is not billed).
    expect(operation).toBe(3);
    expect(closed).toBeGreaterThanOrEqual(2);
    expect(closed).toBeLessThanOrEqual(3);
    // The stack starts in this test (5.4 s in all here, on a loaded machine), and each of the four
    // waits for a phase's requests may take up to 10 s before it fails with its own message.
  }, 60_000);
});
