/**
 * The jute codec: decode(encode(x)) = x for every record, and arbitrary or truncated bytes never
 * throw anything but JuteError (property tests, fixed seed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getDataReply, REPLY_HEADER_BYTES, statReply, toJStat } from '../src/context.js';
import type { Codec } from '../src/jute/codec.js';
import { encode } from '../src/jute/codec.js';
import { JuteError, JuteReader } from '../src/jute/io.js';
import { type MultiOp, MultiRequest, MultiResponse, type MultiResult } from '../src/jute/multi.js';
import * as R from '../src/jute/records.js';

const SEED = 42;
const RUNS = 300;

const int = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const long = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const str = fc.string({ unit: 'grapheme', maxLength: 40 });
const buf = fc.uint8Array({ maxLength: 64 });
/** Node data: bytes or ZooKeeper's null (written as length -1). */
const nodeData = fc.option(buf, { nil: null });
const strs = fc.array(str, { maxLength: 5 });
const id = fc.record({ scheme: str, id: str });
const acl = fc.record({ perms: int, id });
const acls = fc.array(acl, { maxLength: 3 });
const stat = fc.record({
  czxid: long,
  mzxid: long,
  ctime: long,
  mtime: long,
  version: int,
  cversion: int,
  aversion: int,
  ephemeralOwner: long,
  dataLength: int,
  numChildren: int,
  pzxid: long,
});
const createReq = fc.record({ path: str, data: nodeData, acl: acls, flags: int });
const pathWatch = fc.record({ path: str, watch: fc.boolean() });
const pathVersion = fc.record({ path: str, version: int });

// biome-ignore lint/suspicious/noExplicitAny: a table of codecs of different types.
const RECORDS: [string, Codec<any>, fc.Arbitrary<unknown>][] = [
  ['Id', R.Id, id],
  ['ACL', R.ACL, acl],
  ['Stat', R.Stat, stat],
  ['ClientInfo', R.ClientInfo, fc.record({ authScheme: str, user: str })],
  ['RequestHeader', R.RequestHeader, fc.record({ xid: int, type: int })],
  ['ReplyHeader', R.ReplyHeader, fc.record({ xid: int, zxid: long, err: int })],
  ['MultiHeader', R.MultiHeader, fc.record({ type: int, done: fc.boolean(), err: int })],
  ['WatcherEvent', R.WatcherEvent, fc.record({ type: int, state: int, path: str })],
  ['ErrorResponse', R.ErrorResponse, fc.record({ err: int })],
  ['AuthPacket', R.AuthPacket, fc.record({ type: int, scheme: str, auth: buf })],
  [
    'SetWatches',
    R.SetWatches,
    fc.record({ relativeZxid: long, dataWatches: strs, existWatches: strs, childWatches: strs }),
  ],
  [
    'SetWatches2',
    R.SetWatches2,
    fc.record({
      relativeZxid: long,
      dataWatches: strs,
      existWatches: strs,
      childWatches: strs,
      persistentWatches: strs,
      persistentRecursiveWatches: strs,
    }),
  ],
  ['PathRequest', R.PathRequest, fc.record({ path: str })],
  ['PathWatchRequest', R.PathWatchRequest, pathWatch],
  ['PathVersionRequest', R.PathVersionRequest, pathVersion],
  ['PathTypeRequest', R.PathTypeRequest, fc.record({ path: str, type: int })],
  ['CreateRequest', R.CreateRequest, createReq],
  [
    'CreateTTLRequest',
    R.CreateTTLRequest,
    fc.record({ path: str, data: nodeData, acl: acls, flags: int, ttl: long }),
  ],
  ['SetDataRequest', R.SetDataRequest, fc.record({ path: str, data: nodeData, version: int })],
  ['SetACLRequest', R.SetACLRequest, fc.record({ path: str, acl: acls, version: int })],
  ['AddWatchRequest', R.AddWatchRequest, fc.record({ path: str, mode: int })],
  ['GetEphemeralsRequest', R.GetEphemeralsRequest, fc.record({ prefixPath: str })],
  ['StatResponse', R.StatResponse, fc.record({ stat })],
  ['Create2Response', R.Create2Response, fc.record({ path: str, stat })],
  ['GetDataResponse', R.GetDataResponse, fc.record({ data: nodeData, stat })],
  ['GetChildrenResponse', R.GetChildrenResponse, fc.record({ children: strs })],
  ['GetChildren2Response', R.GetChildren2Response, fc.record({ children: strs, stat })],
  ['GetACLResponse', R.GetACLResponse, fc.record({ acl: acls, stat })],
  ['GetAllChildrenNumberResponse', R.GetAllChildrenNumberResponse, fc.record({ totalNumber: int })],
  ['GetEphemeralsResponse', R.GetEphemeralsResponse, fc.record({ ephemerals: strs })],
  [
    'WhoAmIResponse',
    R.WhoAmIResponse,
    fc.record({ clientInfo: fc.array(fc.record({ authScheme: str, user: str }), { maxLength: 3 }) }),
  ],
  [
    'ConnectRequest',
    R.ConnectRequest,
    fc.record(
      {
        protocolVersion: int,
        lastZxidSeen: long,
        timeOut: int,
        sessionId: long,
        passwd: buf,
        readOnly: fc.boolean(),
      },
      { requiredKeys: ['protocolVersion', 'lastZxidSeen', 'timeOut', 'sessionId', 'passwd'] },
    ),
  ],
  [
    'ConnectResponse',
    R.ConnectResponse,
    fc.record(
      { protocolVersion: int, timeOut: int, sessionId: long, passwd: buf, readOnly: fc.boolean() },
      { requiredKeys: ['protocolVersion', 'timeOut', 'sessionId', 'passwd'] },
    ),
  ],
  [
    'MultiRequest',
    MultiRequest,
    fc.array(
      fc.oneof(
        fc.record({ type: fc.constantFrom(1, 15, 19), req: createReq }),
        fc.record({
          type: fc.constant(21),
          req: fc.record({ path: str, data: buf, acl: acls, flags: int, ttl: long }),
        }),
        fc.record({ type: fc.constantFrom(2, 13), req: pathVersion }),
        fc.record({ type: fc.constant(5), req: fc.record({ path: str, data: nodeData, version: int }) }),
        fc.record({ type: fc.constantFrom(4, 8), req: pathWatch }),
      ) as fc.Arbitrary<MultiOp>,
      { maxLength: 5 },
    ),
  ],
  [
    'MultiResponse',
    MultiResponse,
    fc.array(
      fc.oneof(
        fc.record({ type: fc.constant(1), res: fc.record({ path: str }) }),
        fc.record({ type: fc.constant(15), res: fc.record({ path: str, stat }) }),
        fc.record({ type: fc.constantFrom(2, 13) }),
        fc.record({ type: fc.constant(5), res: fc.record({ stat }) }),
        fc.record({ type: fc.constant(4), res: fc.record({ data: nodeData, stat }) }),
        fc.record({ type: fc.constant(8), res: fc.record({ children: strs }) }),
        fc.record({ type: fc.constant(-1), err: int }),
      ) as fc.Arbitrary<MultiResult>,
      { maxLength: 5 },
    ),
  ],
];

/** Decodes `bytes` with `codec`: the value, or the JuteError; any other throw fails the property. */
function decodeOrJuteError<T>(codec: Codec<T>, bytes: Uint8Array): T | JuteError {
  try {
    return codec.read(new JuteReader(bytes));
  } catch (error) {
    if (error instanceof JuteError) return error;
    throw error;
  }
}

describe('jute codec', () => {
  for (const [name, codec, arb] of RECORDS) {
    it(`${name}: decode(encode(x)) = x, consuming every byte`, () => {
      fc.assert(
        fc.property(arb, (value) => {
          const bytes = encode(codec, value);
          const r = new JuteReader(bytes);
          expect(codec.read(r)).toEqual(value);
          expect(r.remaining).toBe(0);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    it(`${name}: every truncation of a valid encoding fails with JuteError or decodes`, () => {
      fc.assert(
        fc.property(arb, fc.nat(), (value, cut) => {
          const bytes = encode(codec, value);
          const short = bytes.subarray(0, bytes.byteLength === 0 ? 0 : cut % bytes.byteLength);
          decodeOrJuteError(codec, short);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });

    it(`${name}: arbitrary bytes decode or fail with JuteError`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
          decodeOrJuteError(codec, bytes);
        }),
        { seed: SEED, numRuns: RUNS },
      );
    });
  }

  it('refuses lengths beyond the frame without allocating them', () => {
    const huge = new Uint8Array([0x7f, 0xff, 0xff, 0xff]);
    expect(() => R.GetDataResponse.read(new JuteReader(huge))).toThrow(JuteError);
    expect(() => R.GetChildrenResponse.read(new JuteReader(huge))).toThrow(JuteError);
    expect(() => R.PathRequest.read(new JuteReader(new Uint8Array([0xff, 0xff, 0xff, 0xf0])))).toThrow(
      JuteError,
    );
  });

  it('reads the old (44-byte) and new (45-byte) handshake forms', () => {
    const base = {
      protocolVersion: 0,
      lastZxidSeen: 0n,
      timeOut: 30000,
      sessionId: 0n,
      passwd: new Uint8Array(16),
    };
    expect(encode(R.ConnectRequest, base).byteLength).toBe(44);
    expect(encode(R.ConnectRequest, { ...base, readOnly: false }).byteLength).toBe(45);
    expect(R.ConnectRequest.read(new JuteReader(encode(R.ConnectRequest, base))).readOnly).toBeUndefined();
  });
});

describe('reply bodies built without a JuteWriter (the hot path)', () => {
  // A core Stat: safe integers for the longs (zxids, times, session ids), any 32-bit int for the rest.
  const safeLong = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
  const coreStat = fc.record({
    czxid: safeLong,
    mzxid: safeLong,
    ctime: safeLong,
    mtime: safeLong,
    version: int,
    cversion: int,
    aversion: int,
    ephemeralOwner: safeLong,
    dataLength: int,
    numChildren: int,
    pzxid: safeLong,
  });

  // The reply frames' bodies, after the room left for the length prefix and ReplyHeader.
  const bodyOf = (frame: Buffer | undefined) => new Uint8Array(frame!.subarray(REPLY_HEADER_BYTES));

  it('StatResponse: the same bytes as the record codec writes', () => {
    fc.assert(
      fc.property(coreStat, (s) => {
        expect(bodyOf(statReply(s).frame)).toEqual(encode(R.StatResponse, { stat: toJStat(s) }));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('GetDataResponse: the same bytes as the record codec writes, null data as length -1', () => {
    fc.assert(
      fc.property(nodeData, coreStat, (data, s) => {
        expect(bodyOf(getDataReply(data, s).frame)).toEqual(
          encode(R.GetDataResponse, { data, stat: toJStat(s) }),
        );
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });
});
