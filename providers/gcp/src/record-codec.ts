import { decodeMessage, encodeMessage, type NodeRecord, readNodeRecord } from '@faaskeeper/core';

/**
 * A node record as stored bytes: `[u32 head length][head][data]`, the head being the record without
 * its data in the core's codec. Data stays raw (not base64): a 1 KiB node costs 1 KiB and change.
 */
export function encodeRecord(record: NodeRecord): Buffer {
  const { data, ...rest } = record;
  const head = Buffer.from(encodeMessage(rest), 'utf8');
  const out = Buffer.allocUnsafe(4 + head.byteLength + data.byteLength);
  out.writeUInt32BE(head.byteLength, 0);
  head.copy(out, 4);
  out.set(data, 4 + head.byteLength);
  return out;
}

/** Reads what {@link encodeRecord} wrote; the data is a copy the caller may mutate. */
export function decodeRecord(bytes: Buffer): NodeRecord {
  const headLength = bytes.readUInt32BE(0);
  const head = decodeMessage(bytes.toString('utf8', 4, 4 + headLength));
  return readNodeRecord({ ...(head as object), data: new Uint8Array(bytes.subarray(4 + headLength)) });
}
