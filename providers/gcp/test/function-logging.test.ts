// The Cloud Functions log what no caller sees: a failed start-up is logged and answered 503 with its
// cause (it used to be a bare 503), and a refused push is logged once with its cause. No emulator.
import { type BatchHandler, MemoryLogger, TransientError } from '@faaskeeper/core';
import type { HttpFunction } from '@google-cloud/functions-framework';
import { describe, expect, it } from 'vitest';
import { type GcpFunctions, lazyGcpFunctions } from '../src/functions/gcp-functions.js';
import { type PushEnvelope, pushFunction } from '../src/functions/handlers.js';

/** Calls an HTTP function as the functions framework would; resolves the status and body it answered. */
async function call(fn: HttpFunction, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const res = {
      statusCode: 200,
      status(code: number) {
        this.statusCode = code;
        return this;
      },
      send(text: string) {
        resolve({ status: this.statusCode, body: text });
        return this;
      },
      end() {
        resolve({ status: this.statusCode, body: '' });
        return this;
      },
    };
    Promise.resolve((fn as (req: unknown, res: unknown) => unknown)({ body }, res)).catch(reject);
  });
}

const push = (id: string): PushEnvelope => ({
  message: { data: Buffer.from('{}').toString('base64'), attributes: { group: 'g' }, messageId: id },
});

describe('Cloud Functions log what they refuse', () => {
  it('a failed start-up names its cause in the 503 and the log, and the next call tries again', async () => {
    const logger = new MemoryLogger();
    let opens = 0;
    const functions = lazyGcpFunctions(async () => {
      opens++;
      throw new Error('Datastore: 14 UNAVAILABLE: No connection established');
    }, logger);
    const first = await call(functions.writer, push('1'));
    expect(first.status).toBe(503);
    expect(first.body).toContain('14 UNAVAILABLE: No connection established');
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({
      level: 'error',
      message: expect.stringContaining('start-up failed'),
      fields: { function: 'writer', error: { message: expect.stringContaining('UNAVAILABLE') } },
    });
    // A failed start-up is not remembered: the next invocation opens the deployment again.
    expect((await call(functions.heartbeat, {})).status).toBe(503);
    expect(opens).toBe(2);
  });

  it('a started instance is reused by later invocations', async () => {
    let opens = 0;
    const ok: HttpFunction = (_req, res) => {
      res.status(204).end();
    };
    const functions = lazyGcpFunctions(async (): Promise<GcpFunctions> => {
      opens++;
      return { writer: ok, distributor: ok, heartbeat: ok };
    }, new MemoryLogger());
    expect((await call(functions.writer, push('1'))).status).toBe(204);
    expect((await call(functions.distributor, push('2'))).status).toBe(204);
    expect(opens).toBe(1);
  });

  it('a refused push is logged once with its cause, after transient failures were retried inside the invocation', async () => {
    const logger = new MemoryLogger();
    let calls = 0;
    const handler: BatchHandler = async () => {
      calls++;
      if (calls < 3) throw new TransientError('contention on the writer state');
      throw new Error('user store rejected the write');
    };
    const fn = pushFunction(handler, { functionName: 'distributor', timeoutMs: 10_000, logger });
    expect((await call(fn, push('7'))).status).toBe(503);
    expect(calls).toBe(3);
    const refused = logger.lines.filter((l) => l.level === 'warn');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      message: expect.stringContaining('refused'),
      fields: {
        function: 'distributor',
        messageId: '7',
        error: { message: 'user store rejected the write' },
      },
    });
    expect(logger.lines.filter((l) => l.level === 'debug')).toHaveLength(3);
  });
});
