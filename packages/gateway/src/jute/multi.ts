/**
 * The multi records: a MultiOperationRecord is pairs of (MultiHeader, op request) and a
 * MultiResponse pairs of (MultiHeader, op result), each closed by MultiHeader(-1, true, -1).
 */
import { OpCode } from '../codes.js';
import type { Codec, Infer } from './codec.js';
import { JuteError } from './io.js';
import {
  Create2Response,
  CreateRequest,
  CreateTTLRequest,
  GetChildrenResponse,
  GetDataResponse,
  MultiHeader,
  PathResponse,
  PathVersionRequest,
  PathWatchRequest,
  SetDataRequest,
  StatResponse,
} from './records.js';

/** One op of a multi or multiRead request. */
export type MultiOp =
  | { type: 1 | 15 | 19; req: Infer<typeof CreateRequest> }
  | { type: 21; req: Infer<typeof CreateTTLRequest> }
  | { type: 2 | 13; req: Infer<typeof PathVersionRequest> }
  | { type: 5; req: Infer<typeof SetDataRequest> }
  | { type: 4 | 8; req: Infer<typeof PathWatchRequest> };

/** One result of a multi or multiRead reply (-1: an error result). */
export type MultiResult =
  | { type: 1; res: Infer<typeof PathResponse> }
  | { type: 15; res: Infer<typeof Create2Response> }
  | { type: 2 | 13 }
  | { type: 5; res: Infer<typeof StatResponse> }
  | { type: 4; res: Infer<typeof GetDataResponse> }
  | { type: 8; res: Infer<typeof GetChildrenResponse> }
  | { type: -1; err: number };

// biome-ignore lint/suspicious/noExplicitAny: each op type has its own record codec.
const OP_CODECS: Record<number, Codec<any>> = {
  [OpCode.create]: CreateRequest,
  [OpCode.create2]: CreateRequest,
  [OpCode.createContainer]: CreateRequest,
  [OpCode.createTTL]: CreateTTLRequest,
  [OpCode.delete]: PathVersionRequest,
  [OpCode.check]: PathVersionRequest,
  [OpCode.setData]: SetDataRequest,
  [OpCode.getData]: PathWatchRequest,
  [OpCode.getChildren]: PathWatchRequest,
};

// biome-ignore lint/suspicious/noExplicitAny: each result type has its own record codec.
const RESULT_CODECS: Record<number, Codec<any> | null> = {
  [OpCode.create]: PathResponse,
  [OpCode.create2]: Create2Response,
  [OpCode.delete]: null,
  [OpCode.check]: null,
  [OpCode.setData]: StatResponse,
  [OpCode.getData]: GetDataResponse,
  [OpCode.getChildren]: GetChildrenResponse,
};

const END = { type: -1, done: true, err: -1 };

export const MultiRequest: Codec<MultiOp[]> = {
  write(w, ops) {
    for (const op of ops) {
      MultiHeader.write(w, { type: op.type, done: false, err: -1 });
      OP_CODECS[op.type]!.write(w, op.req);
    }
    MultiHeader.write(w, END);
  },
  read(r) {
    const ops: MultiOp[] = [];
    for (let h = MultiHeader.read(r); !h.done; h = MultiHeader.read(r)) {
      const codec = OP_CODECS[h.type];
      if (codec === undefined) throw new JuteError(`invalid op type ${h.type} in a multi`);
      ops.push({ type: h.type, req: codec.read(r) } as MultiOp);
    }
    return ops;
  },
};

export const MultiResponse: Codec<MultiResult[]> = {
  write(w, results) {
    for (const res of results) {
      if (res.type === -1) {
        MultiHeader.write(w, { type: -1, done: false, err: res.err });
        w.int(res.err);
        continue;
      }
      MultiHeader.write(w, { type: res.type, done: false, err: 0 });
      if ('res' in res) RESULT_CODECS[res.type]!.write(w, res.res);
    }
    MultiHeader.write(w, END);
  },
  read(r) {
    const results: MultiResult[] = [];
    for (let h = MultiHeader.read(r); !h.done; h = MultiHeader.read(r)) {
      if (h.type === -1) {
        results.push({ type: -1, err: r.int() });
        continue;
      }
      const codec = RESULT_CODECS[h.type];
      if (codec === undefined) throw new JuteError(`invalid result type ${h.type} in a multi reply`);
      results.push((codec === null ? { type: h.type } : { type: h.type, res: codec.read(r) }) as MultiResult);
    }
    return results;
  },
};
