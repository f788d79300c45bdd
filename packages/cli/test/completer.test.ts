import { createEmbeddedService, type EmbeddedService, type FaaSKeeperClient } from '@faaskeeper/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMAND_NAMES, complete } from '../src/index.js';

let service: EmbeddedService;
let zk: FaaSKeeperClient;

beforeEach(async () => {
  service = createEmbeddedService();
  zk = await service.connect();
  for (const p of ['/app', '/app/config', '/app/cache', '/app/locks', '/apple', '/zoo']) await zk.create(p);
});

afterEach(async () => {
  await service.close();
});

describe('tab completion', () => {
  it('completes the first word to command names', async () => {
    expect(await complete(zk, 'de')).toEqual([['delete', 'deleteall'], 'de']);
    expect(await complete(zk, 'ex')).toEqual([['exists'], 'ex']);
    expect(await complete(zk, '')).toEqual([[...COMMAND_NAMES], '']);
  });

  it('completes a path to the children of its parent that start with the typed prefix', async () => {
    expect(await complete(zk, 'get /app/c')).toEqual([['/app/cache', '/app/config'], '/app/c']);
    expect(await complete(zk, 'ls -R /app/')).toEqual([['/app/cache', '/app/config', '/app/locks'], '/app/']);
  });

  it('completes top-level paths from the root', async () => {
    expect(await complete(zk, 'ls /ap')).toEqual([['/app', '/apple'], '/ap']);
    expect((await complete(zk, 'ls /'))[0]).toEqual(['/app', '/apple', '/zoo']);
  });

  it('completes the command after the last ;', async () => {
    expect(await complete(zk, 'ls /; sy')).toEqual([['sync'], 'sy']);
    expect(await complete(zk, 'ls /; get /z')).toEqual([['/zoo'], '/z']);
  });

  it('offers nothing for a missing parent, a non-path word, or an empty word after a command', async () => {
    expect(await complete(zk, 'get /nope/x')).toEqual([[], '/nope/x']);
    expect(await complete(zk, 'create -e')).toEqual([[], '-e']);
    expect(await complete(zk, 'get ')).toEqual([[], '']);
  });

  it('offers nothing, and does not throw, once the session is gone', async () => {
    await zk.close();
    expect(await complete(zk, 'get /app/')).toEqual([[], '/app/']);
  });
});
