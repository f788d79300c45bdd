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
import type { LeaseKey, LeaseRenewer } from '../../ports/session-lease.js';
import { decodeMessage, encodeMessage } from '../../protocol/codec.js';
import { PROTOCOL_VERSION } from '../../protocol/messages.js';
import {
  newSessionKey,
  sealedRequestOf,
  sealRequest,
  signRequest,
  splitSignature,
} from '../../session/auth.js';
import {
  groupLeaseId,
  groupMembership,
  leaseId,
  type SignedRenewal,
  signGroupRenewal,
  signRenewal,
} from '../../session/lease.js';
import { LeaseGroup } from '../../session/lease-group.js';
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
/**
 * A victim's lease renewer that passes every renewal on and tells `seen` each one as it went out
 * (its lease key and the signed renewal): what an eavesdropper on them would hold.
 */
function recordingRenewals(
  seen: (at: LeaseKey, renewal: SignedRenewal) => void,
): (l: LeaseRenewer) => LeaseRenewer {
  return (l) => ({
    ...(l.renewalShare === undefined ? {} : { renewalShare: l.renewalShare }),
    ...(l.groups === undefined ? {} : { groups: l.groups }),
    renew: async (at, renewal) => {
      const found = await l.renew(at, renewal);
      seen(at, renewal);
      return found;
    },
  });
}

function decoded(body: string): unknown {
  try {
    return decodeMessage(body);
  } catch {
    // Not a message (a hostile test's own garbage): nothing to look at.
    return undefined;
  }
}

/** The session a writer-queue body was sent as (signed, sealed or plain), or undefined. */
function senderOf(body: string): number | undefined {
  const sealed = sealedRequestOf(decoded(body));
  if (sealed !== undefined) return sealed.session;
  const request = decoded(splitSignature(body).text) as { session?: unknown } | undefined;
  return typeof request?.session === 'number' ? request.session : undefined;
}

/** 22 base64url characters at random: a guess at a lease key's tag. */
const guessedTag = (): string => Buffer.from(newSessionKey()).toString('base64url').slice(0, 22);

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
    // The victims' keys are given here so that the forgeries can go to their very lease items, as
    // if the forger had learned the ids (it cannot: "Lease availability"): the MAC alone must hold.
    const keys = [newSessionKey(), newSessionKey(), newSessionKey()];
    const { h, victim } = await setUp({ ...timing, victim: { sessionKey: keys[0]! } });
    const lease = leasePort();
    const forger = await h.connect(lease.option);
    const wrongKey = newSessionKey();
    const group = 4242;
    const groupKey = newSessionKey();
    const groupItem: LeaseKey = { owner: group, id: groupLeaseId(groupKey, group) };
    // One victim per forgery, each renewed with that one alone: were any believed, its victim
    // would outlive its client by a hundred timeouts.
    const forgeries: ((port: LeaseRenewer, at: LeaseKey, far: number) => Promise<unknown>)[] = [
      (port, at, far) => port.renew(at, { at: far, mac: 'A'.repeat(43) }),
      (port, at, far) => port.renew(at, signRenewal(wrongKey, at.owner, far)),
    ];
    if (lease.port().groups !== undefined)
      forgeries.push(async (port, at, far) => {
        await port.groups!.renewGroup(groupItem, signGroupRenewal(groupKey, group, far));
        await port.groups!.join(at, group, groupMembership(wrongKey, at.owner, group, groupKey));
      });
    const victims = [victim];
    while (victims.length < forgeries.length)
      victims.push(await h.connect({ sessionKey: keys[victims.length]! }));
    for (const [i, v] of victims.entries()) await v.create(`/mine${i}`, '', { mode: CreateMode.EPHEMERAL });
    const forge = async () => {
      const far = h.clock.now() + 100 * timing.sessionTimeoutMs;
      for (const [i, v] of victims.entries()) {
        const id = v.sessionNumber;
        await forgeries[i]!(lease.port(), { owner: id, id: leaseId(keys[i]!, id) }, far);
      }
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

  it("a client that knows only a session's id cannot hide its renewals: lease items it writes under the old bare id, under guessed ids and under the group's number leave the idle victim alive by its renewals alone, until its timeout after its last one", async () => {
    // The victim's renewals as they went out, to find its last one.
    const renewals: SignedRenewal[] = [];
    const { h, victim, spy } = await setUp({
      ...timing,
      victim: { lease: recordingRenewals((_at, renewal) => renewals.push(renewal)) },
    });
    const lease = leasePort();
    const forger = await h.connect(lease.option);
    await victim.create('/mine', '', { mode: CreateMode.EPHEMERAL });
    // A second victim under a group lease (a gateway's session), where the target offers them.
    let group: LeaseGroup | undefined;
    let member: FaaSKeeperClient | undefined;
    if (lease.port().groups !== undefined) {
      const key = newSessionKey();
      member = await h.connect({
        sessionKey: key,
        lease: (own) => {
          group ??= new LeaseGroup(own.groups!, { clock: h.clock });
          return group.renewer(own);
        },
      });
      expect(await group!.cover(member.sessionNumber, timing.sessionTimeoutMs, key)).toBe('renewed');
      await member.create('/member', '', { mode: CreateMode.EPHEMERAL });
    }
    const victims = [victim, ...(member === undefined ? [] : [member])];
    const sent = spy.requests.length;
    // Everything a client holding the client grant and the victims' ids can write: the grant is
    // UpdateItem on any item of the lease partition, with or without a condition (the port's
    // unconditional write is the group renewal's, which creates the item it names).
    const port = lease.port();
    const write = async (id: string, value: object) => {
      if (port.groups !== undefined) await port.groups.renewGroup({ owner: 0, id }, value as SignedRenewal);
      else await port.renew({ owner: 0, id }, value as SignedRenewal);
    };
    const attack = async () => {
      const past = h.clock.now() - 10 * timing.sessionTimeoutMs;
      for (const v of victims) {
        const id = v.sessionNumber;
        const junk = { at: past, mac: 'A'.repeat(43) };
        // The id leases had before they were keyed, with junk and with a renewal long past; guessed
        // tags; and the shapes a membership or a group renewal would have.
        for (const at of [String(id), `${id}.${guessedTag()}`, `${id}.${'A'.repeat(22)}`]) {
          await write(at, junk);
          await write(at, { g: group?.id ?? 4242, k: 'A'.repeat(80) });
          await port.renew({ owner: id, id: at }, signRenewal(newSessionKey(), id, past));
        }
      }
      if (group !== undefined)
        for (const at of [`g${group.id}`, `g${group.id}.${guessedTag()}`, `g${group.id}.${'A'.repeat(22)}`])
          await write(at, { at: past, mac: 'A'.repeat(43) });
    };
    // Idle for three timeouts under attack: were any of these items read as a victim's lease, the
    // heartbeat would end it within one timeout of its last request.
    await forgeUntil(h, h.clock.now() + 3 * timing.sessionTimeoutMs, attack);
    await kit.heartbeatNow(h.deployment, forger);
    expect(await forger.exists('/mine'), 'the idle victim lives by its renewals').not.toBeNull();
    if (member !== undefined)
      expect(await forger.exists('/member'), 'the group member lives by its group').not.toBeNull();
    // It lived by its renewals alone: none of the victims sent a request meanwhile (a ping would
    // have renewed it through the writer).
    const theirs = new Set(victims.map((v) => v.sessionNumber));
    expect(spy.requests.slice(sent).filter((b) => theirs.has(senderOf(b) ?? -1))).toEqual([]);
    for (const v of victims) expect(v.state).toBe('CONNECTED');
    // Cut off, renewals and all: the victims end within their timeout of their last renewal, the
    // attack going on (nothing it writes keeps them alive either).
    for (const v of victims) h.deployment.partition(v);
    group?.close();
    const cut = h.clock.now();
    await kit.quiet();
    expect(renewals.length).toBeGreaterThan(0);
    expect(renewals.at(-1)!.at).toBeLessThanOrEqual(cut);
    await forgeUntil(h, cut + pastExpiry, attack);
    await kit.heartbeatNow(h.deployment, forger);
    expect(await forger.exists('/mine'), 'the victim expired after its last renewal').toBeNull();
    if (member !== undefined) expect(await forger.exists('/member')).toBeNull();
  });

  it("a replay of the victim's own old renewal does not keep its session alive past that renewal's time plus its timeout", async () => {
    const renewals: SignedRenewal[] = [];
    let victimLease: LeaseKey | undefined;
    const { h, victim } = await setUp({
      ...timing,
      victim: {
        lease: recordingRenewals((at, renewal) => {
          renewals.push(renewal);
          victimLease = at;
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
    // Replayed to the lease item the victim renewed (as if the forger had learned its id too).
    const item = victimLease!;
    expect(item.owner).toBe(id);
    await forgeUntil(h, old!.at + pastExpiry, async () => {
      await lease.port().renew(item, old!);
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
