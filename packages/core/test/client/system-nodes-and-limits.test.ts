import { afterEach, describe, expect, it, vi } from 'vitest';
import { createEmbeddedService, type EmbeddedService } from '../../src/embedded/embedded-service.js';
import { FaaSKeeperError } from '../../src/model/errors.js';
import { MAX_DATA_BYTES } from '../../src/model/limits.js';

let service: EmbeddedService | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await service?.close();
  service = undefined;
});

async function connect() {
  service = createEmbeddedService();
  return service.connect();
}

describe('/zookeeper, ZooKeeper’s own nodes', () => {
  it('answers reads field for field as ZooKeeper 3.8 does', async () => {
    const zk = await connect();
    const zero = {
      czxid: 0,
      mzxid: 0,
      pzxid: 0,
      ctime: 0,
      mtime: 0,
      version: 0,
      ephemeralOwner: 0,
      dataLength: 0,
    };
    expect(await zk.getChildren('/zookeeper')).toEqual({
      children: ['config', 'quota'],
      stat: { ...zero, cversion: -2, aversion: 0, numChildren: 2 },
    });
    expect(await zk.getData('/zookeeper/config')).toEqual({
      data: new Uint8Array(0),
      stat: { ...zero, cversion: 0, aversion: -1, numChildren: 0 },
    });
    expect(await zk.exists('/zookeeper/quota')).toEqual({
      ...zero,
      cversion: 0,
      aversion: 0,
      numChildren: 0,
    });
    expect((await zk.getChildren('/zookeeper/quota')).children).toEqual([]);
    await expect(zk.getData('/zookeeper/other')).rejects.toMatchObject({ code: 'NONODE' });
  });

  it('hands out copies: a caller changing an answer does not change the next one', async () => {
    const zk = await connect();
    (await zk.getChildren('/zookeeper')).children.push('mine');
    (await zk.exists('/zookeeper'))!.numChildren = 9;
    expect(await zk.getChildren('/zookeeper')).toMatchObject({
      children: ['config', 'quota'],
      stat: { numChildren: 2 },
    });
  });
});

describe('data over the limit', () => {
  it('a string over 1 MiB is refused with BADARGUMENTS before it is encoded or sent', async () => {
    const zk = await connect();
    const encode = vi.spyOn(TextEncoder.prototype, 'encode');
    const big = 'x'.repeat(MAX_DATA_BYTES + 1);
    for (const attempt of [() => zk.create('/big', big), () => zk.setData('/', big)]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FaaSKeeperError);
      expect(error).toMatchObject({ code: 'BADARGUMENTS' });
      expect((error as Error).message).toMatch(/at least 1048577 bytes, over the limit of 1048576/);
    }
    expect(encode.mock.calls.filter(([text]) => text === big)).toEqual([]);
    expect(await zk.exists('/big')).toBeNull();
  });

  it('a string of 1 MiB of one-byte characters is accepted, one of two-byte characters is not', async () => {
    const zk = await connect();
    await zk.create('/fits', 'x'.repeat(MAX_DATA_BYTES));
    expect((await zk.exists('/fits'))?.dataLength).toBe(MAX_DATA_BYTES);
    // Half as many characters, but each is two bytes in UTF-8: one byte over.
    await expect(zk.create('/wide', `${'é'.repeat(MAX_DATA_BYTES / 2)}x`)).rejects.toMatchObject({
      code: 'BADARGUMENTS',
    });
  });
});
