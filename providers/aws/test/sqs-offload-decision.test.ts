// What `SqsQueue.capabilities.offloads` tells a client (core's request pipeline seals such bodies,
// docs/guarantees.md "Security model"): exactly the bodies the queue would send through S3.
import { describe, expect, it } from 'vitest';
import { fitsInline, outgoingBody } from '../src/sqs-offload.js';

describe('the offload decision a client seals by', () => {
  it('a body counts as offloaded exactly when it does not go inline, escaping included', async () => {
    const limit = 1000;
    const bodies = [
      'a'.repeat(999),
      'a'.repeat(1000),
      'a'.repeat(1001),
      // Characters SQS (or its emulators) refuse are escaped to five each, plus an attribute.
      `${'a'.repeat(900)}\u{1F600}`,
      `${'a'.repeat(960)}\u{1F600}`,
      `${'a'.repeat(940)}\uE000`,
      `${'a'.repeat(990)}\u0001`,
    ];
    for (const body of bodies) {
      const inline = (await outgoingBody(undefined, limit, body)) !== undefined;
      expect(fitsInline(limit, body), `${body.length} characters`).toBe(inline);
    }
    expect(bodies.map((b) => fitsInline(limit, b))).toEqual([true, true, false, true, false, true, false]);
  });
});
