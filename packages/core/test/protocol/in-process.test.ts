import { describe, expect, it } from 'vitest';
import { createEmbeddedService } from '../../src/index.js';
import { MemoryChannel } from '../../src/memory/memory-channel.js';
import { MemoryQueue } from '../../src/memory/memory-queue.js';
import { LimitExceededError } from '../../src/ports/errors.js';
import type { OutgoingMessage, Queue } from '../../src/ports/queue.js';
import { byteLength, encodeMessage } from '../../src/protocol/codec.js';
import {
  carriedTextValue,
  carryTexts,
  encodedSizeAtMost,
  inProcessMessage,
  inProcessValue,
} from '../../src/protocol/in-process.js';
import { signRequest } from '../../src/session/auth.js';
import { Rng } from '../../src/testkit/faults/prng.js';

const KEY = new Uint8Array(32).fill(5);

describe('in-process messages', () => {
  it('hand their value to the receiver, and a copy a wrapper makes carries only the text', () => {
    const value = { op: { type: 'setData', path: '/a', data: new Uint8Array([1, 2, 3]) } };
    const message = inProcessMessage({ group: 'g', dedupId: 'd' }, value);
    expect(inProcessValue(message)).toBe(value);
    const copy = { ...message };
    expect(inProcessValue(copy)).toBeUndefined();
    // The copy's body is the text the sender would have sent.
    expect(copy.body).toBe(encodeMessage(value));
    expect(message.body).toBe(copy.body);
  });

  it('make their text once, and only when it is read', () => {
    let made = 0;
    const message = inProcessMessage({ group: 'g' }, { a: 1 }, () => {
      made++;
      return 'text';
    });
    expect(made).toBe(0);
    expect([message.body, message.body]).toEqual(['text', 'text']);
    expect(made).toBe(1);
  });

  it('never bound their size below the signed text (1,000 random values, seed 4242)', () => {
    const rng = new Rng(4242);
    const chars = ['a', 'é', '€', '😀', '\u0000', '"', '\\', '\n', '\u2028'];
    const text = () => Array.from({ length: rng.int(40) }, () => rng.pick(chars)).join('');
    const value = (depth: number): unknown => {
      switch (rng.int(depth > 3 ? 4 : 6)) {
        case 0:
          return text();
        case 1:
          return rng.pick([0, -1, 2 ** 53 - 1, -1.2345678901234567e308, 5e-324, true, false, null]);
        case 2:
          return new Uint8Array(rng.int(3000)).fill(rng.int(256));
        case 3:
          return rng.int(1000);
        case 4:
          return Array.from({ length: rng.int(6) }, () => value(depth + 1));
        default:
          return Object.fromEntries(Array.from({ length: rng.int(6) }, () => [text(), value(depth + 1)]));
      }
    };
    for (let i = 0; i < 1000; i++) {
      const v = { v: 1, op: value(0) };
      const signed = signRequest(KEY, encodeMessage(v));
      expect(encodedSizeAtMost(v)).toBeGreaterThanOrEqual(byteLength(signed));
    }
  });
});

describe('the memory queue with in-process messages', () => {
  const queue = (maxMessageBytes: number) =>
    new MemoryQueue('q', { capabilities: { maxMessageBytes, maxBatch: 10 } });
  const request = (bytes: number) => ({ v: 1, op: { type: 'setData', data: new Uint8Array(bytes) } });
  const signed = (value: object): OutgoingMessage =>
    inProcessMessage({ group: 'g', dedupId: `d${Math.random()}` }, value, () =>
      signRequest(KEY, encodeMessage(value)),
    );

  it('says it is in process, and passes the value on with the message, on every delivery', async () => {
    const q = queue(1 << 20);
    expect(q.capabilities.inProcess).toBe(true);
    const value = request(10);
    const sent = signed(value);
    await q.send([sent]);
    const [first] = await q.receive({ max: 1, visibilityTimeoutMs: 60_000 });
    expect(inProcessValue(first!)).toBe(value);
    expect(first!.body).toBe(sent.body);
    await q.release([first!.receipt]);
    const [again] = await q.receive({ max: 1, visibilityTimeoutMs: 60_000 });
    expect(again!.attempt).toBe(2);
    expect(inProcessValue(again!)).toBe(value);
  });

  it('refuses an in-process message whose text is over its limit, as it refuses the text', async () => {
    const q = queue(2000);
    // 1,500 bytes are 2,000 characters of base64: the text is over the limit.
    await expect(q.send([signed(request(1500))])).rejects.toBeInstanceOf(LimitExceededError);
    await expect(q.send([{ ...signed(request(1500)) }])).rejects.toBeInstanceOf(LimitExceededError);
  });

  it('takes an in-process message whose size bound is over its limit but whose text fits', async () => {
    const value = { v: 1, path: '/'.repeat(300) };
    const text = signRequest(KEY, encodeMessage(value));
    const limit = byteLength(text) + 10;
    expect(encodedSizeAtMost(value)).toBeGreaterThan(limit);
    const q = queue(limit);
    await q.send([signed(value)]);
    const [got] = await q.receive({ max: 1, visibilityTimeoutMs: 60_000 });
    expect(inProcessValue(got!)).toBe(value);
  });
});

describe('requests of an embedded client', () => {
  it('are applied with the data the call was made with, whatever the caller does with its buffer after', async () => {
    const service = createEmbeddedService({ channelSecret: false });
    try {
      const client = await service.connect();
      const data = new Uint8Array(64).fill(1);
      const created = client.create('/buffer', data);
      data.fill(2);
      await created;
      const set = client.setData('/buffer', data);
      data.fill(3);
      await set;
      expect((await client.getData('/buffer')).data).toEqual(new Uint8Array(64).fill(2));
      await client.close();
    } finally {
      await service.close();
    }
  });

  it('go as signed text, checked by the writer, when a wrapper copies them on the way', async () => {
    const copied: string[] = [];
    const copying = (inner: Queue): Queue => ({
      name: inner.name,
      capabilities: inner.capabilities,
      send: (messages) => {
        const copies = messages.map((m) => ({ ...m }));
        for (const m of copies) copied.push(m.body);
        return inner.send(copies);
      },
      receive: (o) => inner.receive(o),
      ack: (r) => inner.ack(r),
      release: (r) => inner.release(r),
    });
    const service = createEmbeddedService({ wrap: { writerQueue: copying } });
    try {
      const client = await service.connect();
      await client.create('/copied', new Uint8Array([7]));
      expect((await client.getData('/copied')).data).toEqual(new Uint8Array([7]));
      await client.close();
    } finally {
      await service.close();
    }
    // Every request crossed as text with its MAC, which the writer verified before applying it.
    expect(copied.length).toBeGreaterThan(0);
    for (const body of copied) expect(body).toMatch(/"mac":"[A-Za-z0-9_-]{43}"/);
  });
});

describe('channel messages with their values', () => {
  it('hand a value back only for the very text it was registered with', () => {
    const value = { v: 1 };
    const texts = ['a', 'b'];
    carryTexts(texts, [{ text: 'a', value }, undefined]);
    expect(carriedTextValue(texts, 0)).toBe(value);
    expect(carriedTextValue(texts, 1)).toBeUndefined();
    // A wrapper that replaced a message in the batch: the new text is decoded and checked instead.
    texts[0] = 'forged';
    expect(carriedTextValue(texts, 0)).toBeUndefined();
    // A copy of the batch carries nothing.
    expect(carriedTextValue(['a'], 0)).toBeUndefined();
  });

  it('reach the subscriber of a memory channel with the batch, again after a failed delivery', async () => {
    const channel = new MemoryChannel();
    const value = { v: 1, n: 1 };
    const texts = ['one', 'two'];
    carryTexts(texts, [{ text: 'one', value }, undefined]);
    const seen: [string, unknown][][] = [];
    let fail = true;
    const delivered = new Promise<void>((resolve) => {
      void channel.subscribe(7, (batch) => {
        seen.push(batch.map((t, i) => [t, carriedTextValue(batch, i)]));
        if (fail) {
          fail = false;
          throw new Error('consumer failed');
        }
        resolve();
      });
    });
    await channel.send(7, texts);
    await delivered;
    const expected = [
      ['one', value],
      ['two', undefined],
    ];
    expect(seen).toEqual([expected, expected]);
  });
});
