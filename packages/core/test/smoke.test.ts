import { describe, expect, it } from 'vitest';
import { CreateMode, createEmbeddedService } from '../src/index.js';

describe('embedded smoke', () => {
  it('creates, reads, updates and deletes', async () => {
    const service = createEmbeddedService();
    const zk = await service.connect();
    expect(zk.state).toBe('CONNECTED');
    expect(await zk.create('/a', 'hello')).toBe('/a');
    const { data, stat } = await zk.getData('/a');
    expect(new TextDecoder().decode(data)).toBe('hello');
    expect(stat.version).toBe(0);
    const s2 = await zk.setData('/a', 'x', { version: 0 });
    expect(s2.version).toBe(1);
    const seq = await zk.create('/a/n-', 'q', { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
    expect(seq).toBe('/a/n-0000000000');
    expect((await zk.getChildren('/a')).children).toEqual(['n-0000000000']);
    const events: string[] = [];
    await zk.getData('/a', { watch: (e) => events.push(`${e.type} ${e.path}`) });
    await zk.setData('/a', 'y');
    await zk.delete(seq);
    expect(events).toEqual(['NodeDataChanged /a']);
    await zk.close();
    await service.close();
  });
});
