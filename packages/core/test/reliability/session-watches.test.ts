import { describe, expect, it } from 'vitest';
import {
  CreateMode,
  createEmbeddedService,
  encodeMessage,
  type SessionItem,
  type TransactOp,
  TransientError,
} from '../../src/index.js';
import {
  checkFinalState,
  drain,
  interceptPort,
  PORT_METHODS,
  unwrapPort,
} from '../../src/testkit/faults/index.js';
import { limitTransactionItems } from '../../src/testkit/index.js';

/** Registrations of `session` left on node items (read past any wrapper). */
async function registrationsOf(
  service: ReturnType<typeof createEmbeddedService>,
  session: number,
): Promise<string[]> {
  const items = await unwrapPort(service.ports.systemStore).list<{
    dataWatches?: number[];
    childWatches?: number[];
  }>('node');
  return items
    .filter((i) => [...(i.value.dataWatches ?? []), ...(i.value.childWatches ?? [])].includes(session))
    .map((i) => i.id);
}

describe("a session's watch registrations end with it", () => {
  it('removes every registration at close, however many paths the session watched (more than 1024)', async () => {
    const service = createEmbeddedService();
    const [zk, other] = await Promise.all([service.connect(), service.connect()]);
    await zk.create('/w');
    await zk.create('/w/data');
    // 1100 exists watches on missing paths, one data watch and one child watch on existing nodes:
    // the first registrations are the ones a bounded memory of recent paths forgets.
    await zk.getData('/w/data', { watch: () => {} });
    await zk.getChildren('/w', { watch: () => {} });
    await Promise.all(Array.from({ length: 1100 }, (_, i) => zk.exists(`/w/m${i}`, { watch: () => {} })));
    expect((await registrationsOf(service, zk.sessionNumber)).length).toBe(1102);
    await zk.close();
    await drain(service);
    expect(await registrationsOf(service, zk.sessionNumber)).toEqual([]);
    // A change at a path the closed session watched first tells nobody and leaves no epoch entry.
    await other.setData('/w/data', 'x');
    await other.create('/w/m0');
    await drain(service);
    expect(await checkFinalState(service)).toEqual([]);
    await other.close();
    await service.close();
  });

  it("keeps the session's item bounded however many long paths it watches", async () => {
    const service = createEmbeddedService();
    const zk = await service.connect();
    const long = 'x'.repeat(1000);
    await Promise.all(Array.from({ length: 600 }, (_, i) => zk.exists(`/${long}${i}`, { watch: () => {} })));
    const session = await unwrapPort(service.ports.systemStore).get<SessionItem>({
      kind: 'session',
      id: String(zk.sessionNumber),
    });
    // 600 paths of 1 KB each would make a 600 KB item, over DynamoDB's 400 KB.
    expect(encodeMessage(session!.value).length).toBeLessThan(64 * 1024);
    await zk.close();
    await drain(service);
    expect(await registrationsOf(service, zk.sessionNumber)).toEqual([]);
    expect(await checkFinalState(service)).toEqual([]);
    await service.close();
  });

  it('closes a session holding more watches than one store transaction can hold', async () => {
    // DynamoDB takes 100 items per transaction; here 25, so that 60 registrations cannot all be
    // removed in the close's own transaction.
    const service = createEmbeddedService({
      wrap: { systemStore: (inner) => limitTransactionItems(inner, 25) },
    });
    const [zk, other] = await Promise.all([service.connect(), service.connect()]);
    await zk.create('/held', '', { mode: CreateMode.EPHEMERAL });
    await Promise.all(Array.from({ length: 60 }, (_, i) => zk.exists(`/m${i}`, { watch: () => {} })));
    await zk.close();
    expect(zk.state).toBe('CLOSED');
    await drain(service);
    expect(await other.exists('/held')).toBeNull();
    expect(await registrationsOf(service, zk.sessionNumber)).toEqual([]);
    expect(await checkFinalState(service)).toEqual([]);
    await other.close();
    await service.close();
  });

  it('leaves no epoch entry for a session that watched its own ephemeral node when it closes', async () => {
    // The close deletes the ephemeral, which fires the session's own watch: that event must not
    // leave an entry in the epoch that no ack of the ended session will ever release.
    const service = createEmbeddedService();
    const [zk, other] = await Promise.all([service.connect(), service.connect()]);
    await zk.create('/mine', '', { mode: CreateMode.EPHEMERAL });
    await zk.exists('/mine', { watch: () => {} });
    await other.exists('/mine', { watch: () => {} });
    await zk.close();
    await drain(service);
    expect(await checkFinalState(service)).toEqual([]);
    await other.close();
    await service.close();
  });

  it("finishes removing an ended session's watches when the writer fails between the close and the removal", async () => {
    // The commit that removes the registrations after the close fails once (a crash after the
    // close's commit): the retried invocation finds the close committed and finishes the removal.
    let failed = false;
    const service = createEmbeddedService({
      wrap: {
        systemStore: (inner) =>
          interceptPort(
            limitTransactionItems(inner, 25),
            PORT_METHODS.systemStore,
            async (method, args, call) => {
              const ops = method === 'transact' ? (args[0] as TransactOp[]) : [];
              if (!failed && ops.some((op) => op.id.startsWith('watches:') && op.type === 'delete')) {
                failed = true;
                throw new TransientError('injected: the removal commit fails');
              }
              return call();
            },
          ),
      },
    });
    const [zk, other] = await Promise.all([service.connect(), service.connect()]);
    await Promise.all(Array.from({ length: 60 }, (_, i) => zk.exists(`/m${i}`, { watch: () => {} })));
    await zk.close();
    await drain(service);
    expect(failed).toBe(true);
    // A change at a watched path after the close tells nobody.
    await other.create('/m59');
    await drain(service);
    expect(await registrationsOf(service, zk.sessionNumber)).toEqual([]);
    expect(await checkFinalState(service)).toEqual([]);
    await other.close();
    await service.close();
  });
});
