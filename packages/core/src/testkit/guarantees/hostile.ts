import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import type { ClientOptions, FaaSKeeperClient } from '../../client/client.js';
import type { DeploymentOptions } from '../../deployment/deployment.js';
import { generateDigest } from '../../index.js';
import type { Channel } from '../../ports/channel.js';
import type { Queue } from '../../ports/queue.js';
import type { BatchHandler } from '../../ports/runtime.js';
import type { UserStore } from '../../ports/user-store.js';
import { decodeMessage, encodeMessage } from '../../protocol/codec.js';
import {
  type ACL,
  type ChannelMessage,
  PROTOCOL_VERSION,
  type RequestOp,
  type WriteRequest,
} from '../../protocol/messages.js';
import {
  channelAad,
  channelKey,
  leftUnsealed,
  newSessionKey,
  signRequest,
  splitSignature,
  unseal,
} from '../../session/auth.js';
import { WRITER_GROUP } from '../../writer/writer.js';
import { checkLinearizable } from '../linearizability/checker.js';
import { HistoryRecorder } from '../linearizability/history.js';
import { type ZInput, type ZOutput, znodeModel } from '../linearizability/znode-model.js';
import type { DeploymentTarget } from '../target.js';
import { expectError, guaranteeKit, type Harness, text } from './helpers.js';
import { describeChannelCases } from './hostile-channels.js';
import { describeLeaseAndOffloadCases } from './hostile-leases.js';
import { describeProtectedReadCases, secretText } from './hostile-reads.js';

/**
 * What a hostile client holds: the client's cloud credentials, i.e. the writer queue to send to
 * and every session's channel as it arrives (the raw messages, offloaded bodies fetched back),
 * but no session's secret. Taken from the deployment's own port wrappers, so the same suite runs
 * on every target.
 */
export interface Eavesdrop {
  /**
   * The writer queue, as any client can send to it. Its `capabilities.offloads` says which bodies
   * went through object storage other clients can read; where the target's queue is this process's
   * memory (embedded), offloading bodies over {@link EMULATED_OFFLOAD_BYTES} is emulated, so that
   * clients seal them as they do on AWS.
   */
  queue(): Queue;
  /** Every raw channel message of `session`, in arrival order. */
  channelOf(session: number): string[];
  /** Every raw writer-queue body the writer received. */
  requests: string[];
  /**
   * The deployment's user store adapter: its `open` zone is what the client's cloud credentials
   * read; its `protected` zone only the functions may (the stacks' grants, pinned by the template
   * tests, keep clients out of it: emulators do not enforce IAM, so that half is checked there).
   */
  store(): UserStore;
  /**
   * The channel port of the client connected last (the hostile one, `mallory`), as its cloud grants
   * let it reach any session's channel it can name: send to it, receive from it, remove it.
   */
  clientChannel(): Channel;
}

/**
 * Bodies over this size count as offloaded on a writer queue in this process's memory: SQS's
 * inline limit is 1 MiB; smaller here, so a test's large request crosses it on every target that
 * can emulate it.
 */
export const EMULATED_OFFLOAD_BYTES = 256 * 1024;

/**
 * A memory writer queue as an offloading one: its bodies cross as text (not in-process values),
 * and the large ones count as offloaded, so that clients seal them (`Queue.capabilities.offloads`).
 * Any other queue is returned as it is: its clients reach the cloud's queue, not this wrapper.
 */
function emulateOffload(inner: Queue): Queue {
  if (inner.capabilities.inProcess !== true || inner.capabilities.offloads !== undefined) return inner;
  const { inProcess: _inProcess, ...capabilities } = inner.capabilities;
  return {
    name: inner.name,
    capabilities: {
      ...capabilities,
      offloads: (body) => Buffer.byteLength(body, 'utf8') > EMULATED_OFFLOAD_BYTES,
    },
    send: (messages) =>
      inner.send(messages.map((m) => ({ body: m.body, group: m.group, dedupId: m.dedupId }))),
    receive: (options) => inner.receive(options),
    ack: (receipts) => inner.ack(receipts),
    release: (receipts) => inner.release(receipts),
  };
}

function eavesdrop(): { options: Parameters<DeploymentTarget['deploy']>[0]; spy: Eavesdrop } {
  let queue: Queue | undefined;
  let store: UserStore | undefined;
  let clientChannel: Channel | undefined;
  const channels = new Map<number, string[]>();
  const requests: string[] = [];
  const spy: Eavesdrop = {
    queue: () => queue!,
    channelOf: (session) => channels.get(session) ?? [],
    requests,
    store: () => store!,
    clientChannel: () => clientChannel!,
  };
  const tapChannel = (inner: Channel): Channel => ({
    maxMessageBytes: inner.maxMessageBytes,
    ...(inner.pausable === undefined ? {} : { pausable: inner.pausable }),
    send: (session, messages, inc, tag) => inner.send(session, messages, inc, tag),
    remove: (session, inc, tag) => inner.remove(session, inc, tag),
    subscribe: (session, onMessages, inc, tag) =>
      inner.subscribe(
        session,
        (messages) => {
          const seen = channels.get(session) ?? [];
          seen.push(...messages);
          channels.set(session, seen);
          onMessages(messages);
        },
        inc,
        tag,
      ),
  });
  // The writer queue as clients reach it (the functions' adapter sends to the same queue).
  const keepQueue = (inner: Queue): Queue => {
    queue ??= emulateOffload(inner);
    return queue;
  };
  // What the writer receives, on every target (push or pull invocation alike).
  const tapWriter = (name: 'writer' | 'distributor', handler: BatchHandler): BatchHandler =>
    name !== 'writer'
      ? handler
      : (messages, context) => {
          for (const m of messages) requests.push(m.body);
          return handler(messages, context);
        };
  return {
    options: {
      wrap: {
        writerQueue: keepQueue,
        userStore: (inner) => {
          store ??= inner;
          return inner;
        },
      },
      wrapHandler: tapWriter,
      wrapClientChannel: (c) => {
        clientChannel = c;
        return tapChannel(c);
      },
    },
    spy,
  };
}

/** Deployment settings of one hostile case (the session timings), and the victim's client options. */
export type HostileSettings = Omit<
  DeploymentOptions,
  'clock' | 'wrap' | 'wrapHandler' | 'wrapClientChannel'
> & { victim?: ClientOptions };

/** A hostile case's deployment: the eavesdropper, the victim, a hostile client, and the harness. */
export interface HostileSetup {
  spy: Eavesdrop;
  victim: FaaSKeeperClient;
  mallory: FaaSKeeperClient;
  h: Harness;
}

/** Sends `op` as `session` straight to the writer queue, with `sign` applied to its bytes. */
export async function forge(
  spy: Eavesdrop,
  session: number,
  seq: number,
  op: RequestOp,
  sign: (body: string) => string = (b) => b,
  extra: Partial<WriteRequest> = {},
): Promise<void> {
  const request = {
    v: PROTOCOL_VERSION,
    id: `forged:${session}:${seq}:${Math.random()}`,
    session,
    seq,
    ...extra,
    op,
  };
  await spy.queue().send([{ body: sign(encodeMessage(request)), group: WRITER_GROUP, dedupId: request.id }]);
}

/** Runs `input` on `zk` and records it in `history` as `client`'s. */
export async function recorded(
  history: HistoryRecorder<ZInput, ZOutput>,
  client: number,
  zk: FaaSKeeperClient,
  input: ZInput,
): Promise<void> {
  const done = history.invoke(client, input);
  if (input.op === 'create') {
    await zk.create(input.path, input.data);
    done({ type: 'ok' });
  } else if (input.op === 'set') {
    done({
      type: 'ok',
      version: (await zk.setData(input.path, input.data, { version: input.version })).version,
    });
  } else if (input.op === 'get') {
    const r = await zk.getData(input.path);
    done({ type: 'ok', data: text(r.data), version: r.stat.version });
  } else throw new Error(`not recorded here: ${input.op}`);
}

/**
 * Hostile clients on `target` (docs/guarantees.md "Security model"): a client with valid cloud
 * credentials but not the victim's session secret tries to act as the victim's session, replay the
 * victim's requests, read the victim's channel, write what the ACLs deny and pose as the super
 * user. Every attempt fails with no effect on the data or on the victim's session, and the
 * victim's own history stays that of a lone sequential client (each of its writes seen in order).
 */
export function describeHostileClientGuarantees(target: DeploymentTarget): void {
  describe(target.name, { timeout: target.testTimeoutMs * 4 }, () => {
    const kit = guaranteeKit(target);

    async function setUp(settings: HostileSettings = {}): Promise<HostileSetup> {
      const { options, spy } = eavesdrop();
      const h = await kit.deploy({ ...settings, ...options });
      const victim = await h.connect(settings.victim);
      const mallory = await h.connect();
      return { spy, victim, mallory, h };
    }

    /** The victim keeps working: its next writes apply once each, in order, and it reads them back. */
    async function victimUnharmed(victim: FaaSKeeperClient, path: string, from: number): Promise<void> {
      expect(victim.state).toBe('CONNECTED');
      for (let i = 1; i <= 2; i++) {
        const stat = await victim.setData(path, `v${from + i}`);
        expect(stat.version).toBe(from + i);
        expect(text((await victim.getData(path)).data)).toBe(`v${from + i}`);
      }
    }

    it('a request forged for another session, unsigned or signed with another key, is refused without effect, and the history stays linearizable', async () => {
      const { spy, victim, mallory } = await setUp();
      const history = new HistoryRecorder<ZInput, ZOutput>();
      await recorded(history, 0, victim, { op: 'create', path: '/v', data: 'v0' });
      const sid = victim.sessionNumber;
      const wrongKey = newSessionKey();
      const attack = async () => {
        for (const sign of [(b: string) => b, (b: string) => signRequest(wrongKey, b)]) {
          // The victim's next seqs (open 1, create 2): were they taken, its own requests would be
          // dropped as duplicates. And seqs far ahead.
          for (const seq of [3, 4, 5, 6, 1000]) {
            const evil = new TextEncoder().encode(`evil-${seq}`);
            await forge(spy, sid, seq, { type: 'setData', path: '/v', data: evil, version: -1 }, sign);
          }
          await forge(
            spy,
            sid,
            7,
            { type: 'create', path: '/evil', data: new Uint8Array(0), mode: 'EPHEMERAL' },
            sign,
          );
          await forge(spy, sid, 8, { type: 'closeSession' }, sign);
          await forge(spy, sid, 1, { type: 'resumeSession', incarnation: 77 }, sign, { inc: 77 });
          await forge(spy, sid, 1, { type: 'openSession', timeoutMs: 1000, key: 'A'.repeat(43) }, sign);
          // Malformed, with a huge seq: were it let through, it would use up the victim's seqs.
          await forge(spy, sid, 2 ** 40, { type: 'nonsense' } as unknown as RequestOp, sign);
        }
      };
      const victimWork = async () => {
        for (let i = 1; i <= 4; i++) {
          await recorded(history, 0, victim, { op: 'set', path: '/v', data: `v${i}`, version: -1 });
          await recorded(history, 0, victim, { op: 'get', path: '/v' });
        }
      };
      const observer = async () => {
        for (let i = 0; i < 4; i++) await recorded(history, 1, mallory, { op: 'get', path: '/v' });
      };
      await Promise.all([attack(), victimWork(), observer()]);
      // Mallory's own session is what she may use: a barrier that the forged requests were processed.
      await mallory.create('/barrier', '');
      await target.quiet();
      await recorded(history, 1, mallory, { op: 'get', path: '/v' });
      expect(await mallory.exists('/evil')).toBeNull();
      const result = checkLinearizable(znodeModel(), history.ops);
      expect(result.ok, result.ok === true ? '' : JSON.stringify(history.ops)).toBe(true);
      await victimUnharmed(victim, '/v', 4);
    });

    it("a replay of the victim's own request is not applied again", async () => {
      const { spy, victim, mallory } = await setUp();
      await victim.create('/r', 'v0');
      const before = spy.requests.length;
      await victim.setData('/r', 'v1');
      const captured = spy.requests
        .slice(before)
        .find((b) => decodeMessage<WriteRequest>(splitSignature(b).text).op.type === 'setData');
      expect(captured).toBeDefined();
      await victim.setData('/r', 'v2');
      // Replayed as it was, under a new queue id (a FIFO queue would drop an equal one unseen).
      await spy.queue().send([{ body: captured!, group: WRITER_GROUP, dedupId: `replay-${Date.now()}` }]);
      await mallory.create('/barrier', '');
      await target.quiet();
      const now = await mallory.getData('/r');
      expect(text(now.data)).toBe('v2');
      expect(now.stat.version).toBe(2);
      await victimUnharmed(victim, '/r', 2);
    });

    it("the victim's channel, read raw (offloaded bodies included), shows no reply, event or data", async () => {
      const { spy, victim } = await setUp();
      // ≈ 870 KiB: its reply, sealed and base64-encoded, is over SQS's 1 MiB and goes through S3.
      const big = secretText.repeat(47_000);
      await victim.create('/c', 'small-secret');
      await victim.getData('/c', { watch: () => {} });
      await victim.setData('/c', big);
      await victim.create('/c/kid', '');
      const read = await victim.getData('/c', { watch: () => {} });
      expect(text(read.data)).toBe(big);
      await target.quiet();
      const raw = spy.channelOf(victim.sessionNumber);
      expect(raw.length).toBeGreaterThan(3);
      // Someone with another channel secret (any guess) cannot open a single sealed message.
      const guessed = channelKey('guessed secret', victim.sessionNumber);
      let sealed = 0;
      for (const text of raw) {
        expect(text).not.toContain('small-secret');
        expect(text).not.toContain(secretText);
        expect(text).not.toContain(Buffer.from(secretText).toString('base64').slice(0, 16));
        expect(text).not.toContain('/c/kid');
        const m = decodeMessage<ChannelMessage>(text);
        if (m.body.type !== 'sealed') {
          expect(leftUnsealed(m.body)).toBe(true);
          continue;
        }
        sealed++;
        expect(() =>
          unseal(
            guessed,
            (m.body as { box: Uint8Array }).box,
            channelAad(victim.sessionNumber, m.order, m.zxid, m.wm),
          ),
        ).toThrow();
      }
      expect(sealed).toBeGreaterThan(3);
    });

    it('a client cannot write what the ACLs deny, nor become super with a forged digest', async () => {
      const { victim, mallory } = await setUp();
      const owner: ACL = { perms: 31, id: { scheme: 'digest', id: generateDigest('owner:pw') } };
      await victim.addAuth('digest', 'owner:pw');
      await victim.create('/guarded', 'v0', { acl: [owner] });
      await victim.create('/guarded/kid', '', { acl: [owner] });
      // Posing as super: the digest scheme with a guessed password, and the super id itself.
      await mallory.addAuth('digest', 'super:guess');
      await mallory.addAuth('digest', `super:${generateDigest('super:guess').split(':')[1]}`);
      await expectError(mallory.setData('/guarded', 'evil'), 'NOAUTH');
      // Deleting needs DELETE on the parent (ZooKeeper's rule): the child of the guarded node.
      await expectError(mallory.delete('/guarded/kid'), 'NOAUTH');
      await expectError(
        mallory.setACL('/guarded', [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }]),
        'NOAUTH',
      );
      await expectError(mallory.create('/guarded/other', ''), 'NOAUTH');
      await expectError(mallory.getData('/guarded'), 'NOAUTH');
      expect(text((await victim.getData('/guarded')).data)).toBe('v0');
      expect((await victim.getChildren('/guarded')).children).toEqual(['kid']);
      await victimUnharmed(victim, '/guarded', 0);
    });

    describeProtectedReadCases(target, () => setUp(), victimUnharmed);
    describeLeaseAndOffloadCases(kit, setUp, victimUnharmed);
    describeChannelCases(target, () => setUp(), victimUnharmed);
  });
}
