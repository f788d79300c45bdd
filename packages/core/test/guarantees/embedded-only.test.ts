// Guarantee tests that only the embedded deployment can run: each needs a hook no other deployment
// offers (the portable suite is in src/testkit/guarantees and runs everywhere).
import { describe, expect, it } from 'vitest';
import type { UserStore } from '../../src/index.js';
import { embeddedTarget, gate, guaranteeKit, text } from '../../src/testkit/index.js';

describe('FIFO client order (embedded only)', () => {
  const kit = guaranteeKit(embeddedTarget);

  // Needs to slow the client's own user-store reads: only the embedded deployment's clients read
  // through the `wrap.userStore` port wrapper (elsewhere that wrapper reaches the functions only).
  it('a read issued before a write of the same client does not see that write, however slow', async () => {
    // The user store answers the first read of /x late, as a throttled GET would.
    const slow = gate();
    let armed = false;
    const { connect } = await kit.deploy({
      wrap: {
        userStore: (inner) => ({
          ...bind(inner),
          get: async (path) => {
            if (armed && path === '/x') {
              armed = false;
              await slow.wait(); // the request reaches the store late
              return inner.get(path);
            }
            return inner.get(path);
          },
        }),
      },
    });
    kit.onCleanup(slow.open);
    const [zk, other] = await Promise.all([connect(), connect()]);
    await zk.create('/x', 'old');
    armed = true;
    const order: string[] = [];
    const read = zk.getData('/x').then((r) => order.push(`read ${text(r.data)}`));
    const write = zk.setData('/x', 'new').then(() => order.push('write'));
    await kit.quiet();
    await other.sync('/'); // anything the client has sent by now is applied
    slow.open();
    await Promise.all([read, write]);
    expect(order).toEqual(['read old', 'write']);
    expect(text((await other.getData('/x')).data)).toBe('new');
  });
});

/** The methods of a user store, bound, for a wrapper to override some of them. */
function bind(store: UserStore): UserStore {
  return {
    get: (p) => store.get(p),
    put: (p, r) => store.put(p, r),
    delete: (p) => store.delete(p),
    getWatermark: () => store.getWatermark(),
    putWatermark: (z) => store.putWatermark(z),
    getMarker: (s) => store.getMarker(s),
    putMarker: (s, e) => store.putMarker(s, e),
    putChild: (e) => store.putChild(e),
    deleteChild: (e) => store.deleteChild(e),
    listChildren: (p) => store.listChildren(p),
  };
}
