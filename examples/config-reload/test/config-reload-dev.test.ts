import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localAwsStackMissing } from '@faaskeeper/aws/local';
import { requireOrSkip } from '@faaskeeper/core/testkit';
import { missingEmulators } from '@faaskeeper/gcp/local';
import { ExitCode, runDev } from 'faaskeeper';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, parseArguments } from '../src/main.js';

// The example off the embedded deployment: `faaskeeper dev` runs a local AWS or GCP stack and writes
// its client configuration, and the example runs on it with `--config <that file>`, as in the README.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fk-config-reload-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const STACKS = [
  { provider: 'aws', missing: localAwsStackMissing },
  { provider: 'gcp', missing: () => missingEmulators() },
] as const;

describe('config-reload example with --config', () => {
  for (const { provider, missing } of STACKS)
    it(`follows every change on the local ${provider} deployment faaskeeper dev runs, twice in a row`, async (ctx) => {
      if (!requireOrSkip(ctx, missing(), `the local ${provider.toUpperCase()} stack`)) return;
      const abort = new AbortController();
      const err: string[] = [];
      let ready: (configPath: string) => void = () => {};
      const isReady = new Promise<string>((r) => {
        ready = r;
      });
      const running = runDev({
        provider,
        deployment: 'reload',
        configOut: join(dir, `${provider}.local.json`),
        signal: abort.signal,
        out: () => {},
        err: (line) => err.push(line),
        onReady: (info) => ready(info.configPath),
      });
      try {
        const configPath = await Promise.race([
          isReady,
          running.then((code) => {
            throw new Error(`faaskeeper dev exited early with ${code}: ${err.join('\n')}`);
          }),
        ]);
        // The second run finds the first one's settings on the deployment and starts afresh.
        for (let round = 0; round < 2; round++) {
          const result = await main(parseArguments(['--config', configPath]));
          expect(result.deployment).toBe(`${provider}:reload`);
          expect(result.reloads).toEqual([
            { 'log-level': 'info' },
            { 'log-level': 'debug' },
            { 'log-level': 'debug', 'max-connections': '100' },
            { 'max-connections': '100' },
          ]);
        }
      } finally {
        abort.abort();
        expect(await running).toBe(ExitCode.OK);
      }
    }, 240_000);
});
