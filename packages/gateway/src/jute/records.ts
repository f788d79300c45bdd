/**
 * The records of ZooKeeper's client protocol (zookeeper.jute, module org.apache.zookeeper.proto
 * and .data), field for field in the order the file declares them.
 */
import {
  bool,
  buffer,
  type Codec,
  type Infer,
  int,
  long,
  nullableBuffer,
  record,
  ustring,
  vector,
} from './codec.js';
import { type JuteReader, JuteWriter } from './io.js';

export const Id = record({ scheme: ustring, id: ustring });
export const ACL = record({ perms: int, id: Id });
export const Stat = record({
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
export type JStat = Infer<typeof Stat>;
export type JACL = Infer<typeof ACL>;
export const ClientInfo = record({ authScheme: ustring, user: ustring });

export const RequestHeader = record({ xid: int, type: int });
export const ReplyHeader = record({ xid: int, zxid: long, err: int });
export const MultiHeader = record({ type: int, done: bool, err: int });
export const WatcherEvent = record({ type: int, state: int, path: ustring });
export const ErrorResponse = record({ err: int });
export const AuthPacket = record({ type: int, scheme: ustring, auth: buffer });

const watchLists = {
  relativeZxid: long,
  dataWatches: vector(ustring),
  existWatches: vector(ustring),
  childWatches: vector(ustring),
};
export const SetWatches = record(watchLists);
export const SetWatches2 = record({
  ...watchLists,
  persistentWatches: vector(ustring),
  persistentRecursiveWatches: vector(ustring),
});

export const PathRequest = record({ path: ustring });
export const PathWatchRequest = record({ path: ustring, watch: bool });
export const PathVersionRequest = record({ path: ustring, version: int });
export const PathTypeRequest = record({ path: ustring, type: int });
export const CreateRequest = record({ path: ustring, data: nullableBuffer, acl: vector(ACL), flags: int });
export const CreateTTLRequest = record({
  path: ustring,
  data: nullableBuffer,
  acl: vector(ACL),
  flags: int,
  ttl: long,
});
export const SetDataRequest = record({ path: ustring, data: nullableBuffer, version: int });
export const SetACLRequest = record({ path: ustring, acl: vector(ACL), version: int });
export const AddWatchRequest = record({ path: ustring, mode: int });
export const GetEphemeralsRequest = record({ prefixPath: ustring });

export const PathResponse = record({ path: ustring });
export const StatResponse = record({ stat: Stat });
export const Create2Response = record({ path: ustring, stat: Stat });
export const GetDataResponse = record({ data: nullableBuffer, stat: Stat });
export const GetChildrenResponse = record({ children: vector(ustring) });
export const GetChildren2Response = record({ children: vector(ustring), stat: Stat });
export const GetACLResponse = record({ acl: vector(ACL), stat: Stat });
export const GetAllChildrenNumberResponse = record({ totalNumber: int });
export const GetEphemeralsResponse = record({ ephemerals: vector(ustring) });
export const WhoAmIResponse = record({ clientInfo: vector(ClientInfo) });

/**
 * ConnectRequest / ConnectResponse. `readOnly` is absent in the old form (3.4 clients such as
 * node-zookeeper-client): `undefined` here, and the answer leaves it out too.
 */
export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: bigint;
  timeOut: number;
  sessionId: bigint;
  passwd: Uint8Array;
  readOnly?: boolean;
}
export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Uint8Array;
  readOnly?: boolean;
}

export const ConnectRequest: Codec<ConnectRequest> = {
  write(w, v) {
    w.int(v.protocolVersion).long(v.lastZxidSeen).int(v.timeOut).long(v.sessionId).buffer(v.passwd);
    if (v.readOnly !== undefined) w.bool(v.readOnly);
  },
  read(r) {
    const head = {
      protocolVersion: r.int(),
      lastZxidSeen: r.long(),
      timeOut: r.int(),
      sessionId: r.long(),
      passwd: r.buffer(),
    };
    return r.remaining > 0 ? { ...head, readOnly: r.bool() } : head;
  },
};

export const ConnectResponse: Codec<ConnectResponse> = {
  write(w, v) {
    w.int(v.protocolVersion).int(v.timeOut).long(v.sessionId).buffer(v.passwd);
    if (v.readOnly !== undefined) w.bool(v.readOnly);
  },
  read(r) {
    const head = { protocolVersion: r.int(), timeOut: r.int(), sessionId: r.long(), passwd: r.buffer() };
    return r.remaining > 0 ? { ...head, readOnly: r.bool() } : head;
  },
};

/** One frame: a 4-byte length then the records written by `body`. */
export function frame(body: (w: JuteWriter) => void): Uint8Array {
  const w = new JuteWriter();
  body(w);
  return w.frame();
}

/** Reads `codec` from `r`. */
export function read<T>(r: JuteReader, codec: Codec<T>): T {
  return codec.read(r);
}
