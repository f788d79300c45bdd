import type { SQSClient } from '@aws-sdk/client-sqs';
import { CreateQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { MemoryLogger } from '@faaskeeper/core';
import { describe, expect, it } from 'vitest';
import { SqsChannel } from '../src/sqs-channel.js';

/** An SQS client whose receives fail `failures` times with `cause`, then succeed empty. */
function failingReceives(failures: number, cause: Error): { client: SQSClient; receives: () => number } {
  let receives = 0;
  const client = {
    send: async (command: unknown) => {
      if (command instanceof CreateQueueCommand) return { QueueUrl: 'http://127.0.0.1:1/q.fifo' };
      if (command instanceof ReceiveMessageCommand) {
        receives++;
        if (receives <= failures) throw cause;
        await new Promise((r) => setTimeout(r, 5));
        return { Messages: [] };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as SQSClient;
  return { client, receives: () => receives };
}

describe('SqsChannel polling', () => {
  it('logs a failing poll once, with its cause, and keeps polling', async () => {
    const logger = new MemoryLogger();
    const { client, receives } = failingReceives(3, new Error('queue unreachable'));
    const channel = new SqsChannel({ client, prefix: 'fk-test', logger });
    const subscription = await channel.subscribe(7, () => undefined);
    for (let i = 0; i < 200 && receives() < 5; i++) await new Promise((r) => setTimeout(r, 20));
    await subscription.close();
    expect(receives()).toBeGreaterThanOrEqual(5);
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/channel poll failed/);
    expect(JSON.stringify(warnings[0]!.fields)).toContain('queue unreachable');
  });
});
