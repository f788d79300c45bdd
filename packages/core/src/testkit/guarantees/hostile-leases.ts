/**
 * The hostile-client cases about session liveness and large requests (docs/guarantees.md "Security
 * model"): a client with the client's cloud credentials but not the victim's session key renews the
 * victim's lease with forged or replayed renewals, and reads or alters the victim's request bodies
 * that went through object storage. Neither keeps the victim's session alive past its timeout,
 * reveals its data, or applies anything in its name.
 */
import { Buffer } from 'node:buffer';
import { expect, it } from 'vitest';
import type { FaaSKeeperClient } from '../../client/client.js';
import { CreateMode } from '../../model/create-mode.js';
import type { LeaseRenewer } from '../../ports/session-lease.js';
import { decodeMessage, encodeMessage } from '../../protocol/codec.js';
import { PROTOCOL_VERSION } from '../../protocol/messages.js';
import { newSessionKey, sealedRequestOf, sealRequest, signRequest } from '../../session/auth.js';
import { groupMembership, type SignedRenewal, signGroupRenewal, signRenewal } from '../../session/lease.js';
import { WRITER_GROUP } from '../../writer/writer.js';
import { checkLinearizable } from '../linearizability/checker.js';
import { HistoryRecorder } from '../linearizability/history.js';
import { type ZInput, type ZOutput, znodeModel } from '../linearizability/znode-model.js';
import { type GuaranteeKit, text } from './helpers.js';
import type { HostileSettings, HostileSetup } from './hostile.js';
import { recorded } from './hostile.js';
import { secretText } from './hostile-reads.js';

/** The session timings of the lease cases (as the session suite's). */
const timing = { sessionTimeoutMs: 3000, clockSkewMs: 1000, heartbeatIntervalMs: 500 };
/** Past the point where the heartbeat must have expired a session silent since then. */
const pastExpiry = timing.sessionTimeoutMs + timing.clockSkewMs + timing.heartbeatIntervalMs + 500;
/** How often the hostile client writes its renewals while the clock moves. */
const FORGE_EVERY_MS = 250;

/** The deployment's lease port as a client holds it (its cloud credentials), taken at connect. */
function leasePort(): { option: { lease: (l: LeaseRenewer) => LeaseRenewer }; port: () => LeaseRenewer } {
  let port: LeaseRenewer | undefined;
  return {
    option: {
      lease: (l) => {
        port = l;
        return l;
      },
    },
    port: () => {
      if (port === undefined) throw new Error('the deployment gave the client no lease port');
      return port;
    },
  };
}

/** A decoded message, or undefined when the text is not one. */
function decoded(body: string): unknown {
  try {
    return decodeMessage(body);
  } catch {
    // Not a message (a hostile test's own garbage): nothing to look at.
    return undefined;
  }
}

/** Registers the lease and offloaded-body cases in the calling `describe`. */
export function describeLeaseAndOffloadCases(
  kit: GuaranteeKit,
  setUp: (settings?: HostileSettings) => Promise<HostileSetup>,
  victimUnharmed: (victim: FaaSKeeperClient, path: string, from: number) => Promise<void>,
): void {
  /** Moves the clock until `until`, running `forge` before every step. */
  async function forgeUntil(h: HostileSetup['h'], until: number, forge: () => Promise<void>): Promise<void> {
    while (h.clock.now() < until) {
      await forge();
      await kit.advance(h.clock, FORGE_EVERY_MS);
    }
  }

  it('a renewal forged for another session (unsigned, signed with another key, or under a forged group) does not keep it alive past its timeout once its client stopped', async () => {
    const { h, victim } = await setUp(timing);
    const lease = leasePort();
    const forger = await h.connect(lease.option);
    const wrongKey = newSessionKey();
    const group = 4242;
    const groupKey = newSessionKey();
    // One victim per forgery, each renewed with that one alone: were any believed, its victim
    // would outlive its client by a hundred timeouts.
    const forgeries: ((port: LeaseRenewer, id: number, far: number) => Promise<unknown>)[] = [
      (port, id, far) => port.renew(id, { at: far, mac: 'A'.repeat(43) }),
      (port, id, far) => port.renew(id, signRenewal(wrongKey, id, far)),
    ];
    if (lease.port().groups !== undefined)
      forgeries.push(async (port, id, far) => {
        await port.groups!.renewGroup(group, signGroupRenewal(groupKey, group, far));
        await port.groups!.join(id, group, groupMembership(wrongKey, id, group, groupKey));
      });
    const victims = [victim];
    while (victims.length < forgeries.length) victims.push(await h.connect());
    for (const [i, v] of victims.entries()) await v.create(`/mine${i}`, '', { mode: CreateMode.EPHEMERAL });
    const forge = async () => {
      const far = h.clock.now() + 100 * timing.sessionTimeoutMs;
      for (const [i, v] of victims.entries()) await forgeries[i]!(lease.port(), v.sessionNumber, far);
    };
    for (const v of victims) h.deployment.partition(v);
    await forgeUntil(h, h.clock.now() + pastExpiry, forge);
    await kit.heartbeatNow(h.deployment, forger);
    for (const i of victims.keys())
      expect(await forger.exists(`/mine${i}`), `victim ${i} expired with its ephemeral`).toBeNull();
    // The forger's renewals of the ended sessions find no lease, and revive nothing.
    await forge();
    await kit.heartbeatNow(h.deployment, forger);
    for (const i of victims.keys()) expect(await forger.exists(`/mine${i}`)).toBeNull();
    h.deployment.heal(victim);
    await kit.advance(h.clock, 10);
    await kit.eventually(() => victim.state === 'EXPIRED', 'the victim to hear of its expiry');
  });

  it("a replay of the victim's own old renewal does not keep its session alive past that renewal's time plus its timeout", async () => {
    const renewals: SignedRenewal[] = [];
    const { h, victim } = await setUp({
      ...timing,
      victim: {
        // The victim's renewals as they went out: what an eavesdropper on them would hold.
        lease: (l) => ({
          ...(l.renewalShare === undefined ? {} : { renewalShare: l.renewalShare }),
          ...(l.groups === undefined ? {} : { groups: l.groups }),
          renew: async (session, renewal) => {
            const found = await l.renew(session, renewal);
            renewals.push(renewal);
            return found;
          },
        }),
      },
    });
    const lease = leasePort();
    const forger = await h.connect(lease.option);
    await victim.create('/mine', '', { mode: CreateMode.EPHEMERAL });
    // Idle for most of a timeout: the victim renews at least once.
    await kit.advance(h.clock, timing.sessionTimeoutMs * 0.7);
    h.deployment.partition(victim);
    const cut = h.clock.now();
    // A renewal in flight at the cut still lands: the latest one is the victim's last.
    await kit.quiet();
    const old = renewals.at(-1);
    expect(old, 'the victim renewed its lease').toBeDefined();
    expect(renewals.every((r) => r.at <= cut)).toBe(true);
    const id = victim.sessionNumber;
    await forgeUntil(h, old!.at + pastExpiry, async () => {
      await lease.port().renew(id, old!);
    });
    await kit.heartbeatNow(h.deployment, forger);
    expect(await forger.exists('/mine'), 'the victim expired with its ephemeral').toBeNull();
  });

  it('a request body that went through object storage is sealed: read raw it shows no data, and tampered, relabelled or sealed under another key it is not applied, the history staying linearizable', async () => {
    const { spy, victim, mallory } = await setUp();
    const history = new HistoryRecorder<ZInput, ZOutput>();
    // ≈ 870 KiB: as a request, base64-encoded, over SQS's 1 MiB and the emulated limit.
    const big = secretText.repeat(47_000);
    await recorded(history, 0, victim, { op: 'create', path: '/big', data: 'v0' });
    await recorded(history, 0, victim, { op: 'set', path: '/big', data: big, version: -1 });
    await recorded(history, 0, victim, { op: 'get', path: '/big' });
    const offloads = spy.queue().capabilities.offloads;
    const carried = spy.requests.filter((b) => offloads?.(b) === true);
    // Where the target offloads request bodies (AWS: S3; embedded: emulated), the large one did.
    if (offloads !== undefined) expect(carried.length).toBeGreaterThan(0);
    for (const body of carried) {
      expect(body).not.toContain(secretText);
      expect(body).not.toContain(Buffer.from(secretText).toString('base64').slice(0, 16));
      // The path, in the JSON head (the box's base64 line may hold any four characters by chance).
      expect(body.split('\n')[0]).not.toContain('/big');
      expect(sealedRequestOf(decoded(body))).toBeDefined();
    }
    const id = victim.sessionNumber;
    const send = (body: string, tag: string) =>
      spy.queue().send([{ body, group: WRITER_GROUP, dedupId: `${tag}-${Date.now()}-${Math.random()}` }]);
    const attack = async () => {
      const wrongKey = newSessionKey();
      for (const seq of [4, 5, 1000]) {
        const forged = encodeMessage({
          v: PROTOCOL_VERSION,
          id: `sealed-forgery:${seq}`,
          session: id,
          seq,
          op: { type: 'setData', path: '/big', data: new TextEncoder().encode('evil'), version: -1 },
        });
        await send(sealRequest(wrongKey, id, signRequest(wrongKey, forged)), 'wrong-key');
      }
      for (const body of carried) {
        const sealed = sealedRequestOf(decoded(body))!;
        const flipped = new Uint8Array(sealed.box);
        flipped[flipped.byteLength >> 1]! ^= 1;
        await send(encodeMessage({ sealed: id, box: flipped }), 'tampered');
        // The victim's box passed off as the hostile client's own request: bound to the victim.
        await send(encodeMessage({ sealed: mallory.sessionNumber, box: sealed.box }), 'relabelled');
        await send(body, 'replayed');
      }
    };
    const victimWork = async () => {
      for (let i = 2; i <= 4; i++) {
        await recorded(history, 0, victim, { op: 'set', path: '/big', data: `v${i}`, version: -1 });
        await recorded(history, 0, victim, { op: 'get', path: '/big' });
      }
    };
    const observer = async () => {
      for (let i = 0; i < 3; i++) await recorded(history, 1, mallory, { op: 'get', path: '/big' });
    };
    await Promise.all([attack(), victimWork(), observer()]);
    await mallory.create('/barrier', '');
    await kit.quiet();
    await recorded(history, 1, mallory, { op: 'get', path: '/big' });
    const now = await mallory.getData('/big');
    expect(text(now.data)).toBe('v4');
    expect(now.stat.version).toBe(4);
    const result = checkLinearizable(znodeModel(), history.ops);
    expect(result.ok, result.ok === true ? '' : 'the history is not linearizable').toBe(true);
    await victimUnharmed(victim, '/big', 4);
  });
}
