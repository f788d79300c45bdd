import { describe, expect, it } from 'vitest';
import { owedEventZxid } from '../../src/epoch/read-rule.js';
import type { Stat } from '../../src/model/stat.js';
import type { NodeRecord } from '../../src/protocol/messages.js';

const stat: Stat = {
  czxid: 1,
  mzxid: 1,
  pzxid: 1,
  ctime: 0,
  mtime: 0,
  version: 0,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: 0,
  dataLength: 0,
  numChildren: 0,
};

const record = (txZxid: number, epoch?: Record<string, number>): NodeRecord => ({
  data: new Uint8Array(0),
  stat,
  children: [],
  txZxid,
  ...(epoch === undefined ? {} : { epoch }),
});

describe('the epoch read rule (ordered notifications)', () => {
  it('owes nothing to a session the record does not name', () => {
    expect(owedEventZxid(record(7), '42')).toBeUndefined();
    expect(owedEventZxid(record(7, {}), '42')).toBeUndefined();
    expect(owedEventZxid(record(7, { '43': 5 }), '42')).toBeUndefined();
  });

  it('makes a reader wait for the event the record names for its session', () => {
    expect(owedEventZxid(record(9, { '42': 6, '43': 8 }), '42')).toBe(6);
    expect(owedEventZxid(record(9, { '42': 6, '43': 8 }), '43')).toBe(8);
  });

  it('never waits past the record itself: an event of a later change does not hold it back', () => {
    // The batch's epoch names an event at zxid 12, but this record was written at 9: its data
    // comes before that change, so the reader needs the channel only up to 9.
    expect(owedEventZxid(record(9, { '42': 12 }), '42')).toBe(9);
  });
});
