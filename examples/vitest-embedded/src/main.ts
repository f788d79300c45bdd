/**
 * Runs the registry of `registry.ts` on an embedded deployment: two instances register, one shuts
 * down, and the registry lists the survivor.
 * @packageDocumentation
 */
import { pathToFileURL } from 'node:url';
import { createEmbeddedService } from '@faaskeeper/core';
import { instances, register } from './registry.js';

/** Registers two instances, closes one; resolves the lists before and after. */
export async function main(): Promise<{ before: string[]; after: string[] }> {
  const service = createEmbeddedService();
  try {
    const a = await service.connect();
    const b = await service.connect();
    await register(a, 'api', '10.0.0.1:8080');
    await register(b, 'api', '10.0.0.2:8080');
    const before = await instances(a, 'api');
    await b.close(); // its ephemeral node goes with its session
    const after = await instances(a, 'api');
    return { before, after };
  } finally {
    await service.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { before, after } = await main();
  console.log(`before: ${before.join(', ')}; after: ${after.join(', ')}`);
}
