import { describe, expect, it } from 'vitest';
import { owedEventZxid } from '../../src/epoch/read-rule.js';
import { rootStat } from '../../src/model/stat.js';
import type { NodeRecord } from '../../src/protocol/messages.js';

const stat = rootStat();

const record = (txZxid: number, epoch?: Record<string, number>): NodeRecord => ({
  data: new Uint8Array(0),
  stat,
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
