// The Lambda handlers log what no caller sees (a dropped batch, a failed start-up) through the core's
// Logger port, by default on Powertools' logger. No emulator needed.
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { MemoryLogger } from '@faaskeeper/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDistributorHandler, createWriterHandler, powertoolsLogger } from '../src/handlers/index.js';
import { memoryAwsPorts } from './memory-ports.js';

const record = (body: string) => ({
  messageId: 'm-1',
  receiptHandle: 'r-1',
  body,
  attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'distributor' },
  messageAttributes: {},
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Lambda handlers log what they drop', () => {
  it('a dropped batch is logged by the distributor Lambda with its cause', async () => {
    const logger = new MemoryLogger();
    const handler = createDistributorHandler({ ports: memoryAwsPorts(), logger });
    const response = await handler({ Records: [record('{"batch":"not a number"}')] });
    // Dropped, not retried: an unreadable batch must not block the ones after it.
    expect(response.batchItemFailures).toEqual([]);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({
      level: 'error',
      message: 'distributor: dropped an unreadable batch',
      fields: { function: 'distributor' },
    });
    expect(String(logger.lines[0]?.fields.error)).not.toBe('');
  });

  it('a failed start-up names its cause in the log, and the invocation fails', async () => {
    const logger = new MemoryLogger();
    // No ports and no FAASKEEPER_* environment: the configuration cannot be read.
    const handler = createWriterHandler({ logger });
    await expect(handler({ Records: [record('{}')] })).rejects.toThrow(/environment variable/);
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({
      level: 'error',
      message: expect.stringContaining('start-up failed'),
      fields: { error: { message: expect.stringMatching(/environment variable FAASKEEPER_\w+ is not set/) } },
    });
  });

  it("the default logger is Powertools': one JSON line with the service name and the fields", () => {
    const written: string[] = [];
    // Powertools writes each level through its own Console: warnings and errors to stderr.
    for (const stream of [process.stdout, process.stderr])
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
    const logger = powertoolsLogger(
      new PowertoolsLogger({ serviceName: 'faaskeeper-test', logLevel: 'DEBUG' }),
    );
    logger.warn('poll failed', { function: 'writer', error: { message: 'throttled' } });
    const lines = written.join('').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: 'WARN',
      message: 'poll failed',
      service: 'faaskeeper-test',
      function: 'writer',
      error: { message: 'throttled' },
    });
  });

  it("by default the handlers log on Powertools' logger, each line stamped with the invocation's request id", async () => {
    const written: string[] = [];
    for (const stream of [process.stdout, process.stderr])
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      });
    const handler = createDistributorHandler({ ports: memoryAwsPorts() });
    await handler(
      { Records: [record('not json')] },
      {
        awsRequestId: 'req-42',
        functionName: 'faaskeeper-prod-distributor',
        getRemainingTimeInMillis: () => 1000,
      },
    );
    const lines = written
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'ERROR',
      message: 'distributor: dropped an unreadable batch',
      service: 'faaskeeper',
      function_request_id: 'req-42',
      function_name: 'faaskeeper-prod-distributor',
      function: 'distributor',
    });
  });
});
