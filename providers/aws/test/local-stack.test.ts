import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { startLocalAwsStack } from '../src/local/local-stack.js';
import { requireLocalStack } from './support.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Local addresses the process listens on (TCP), from `ss`. */
function listening(pid: number): string[] {
  const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.trim().split(/\s+/)[3] ?? '');
}

it('starts both emulators on 127.0.0.1 only, records their PIDs, and stops exactly those', async (ctx) => {
  if (!requireLocalStack(ctx)) return;
  const stack = await startLocalAwsStack();
  try {
    const pids = readFileSync(stack.pidFile, 'utf8');
    expect(pids).toContain(`dynamodb ${stack.pids.dynamodb}`);
    expect(pids).toContain(`fauxqs ${stack.pids.fauxqs}`);
    for (const pid of [stack.pids.dynamodb, stack.pids.fauxqs]) {
      const addresses = listening(pid);
      expect(addresses.length).toBeGreaterThan(0);
      for (const a of addresses) expect(a).toMatch(/^(\[::ffff:)?127\.0\.0\.1\]?:\d+$/);
    }
    expect(stack.endpoints.dynamodb).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.endpoints.sqs).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  } finally {
    await stack.stop();
  }
  expect(isAlive(stack.pids.dynamodb)).toBe(false);
  expect(isAlive(stack.pids.fauxqs)).toBe(false);
  expect(existsSync(stack.pidFile)).toBe(false);
}, 90_000);
