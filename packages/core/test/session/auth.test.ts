import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../src/protocol/codec.js';
import {
  channelAad,
  channelKey,
  newSessionKey,
  seal,
  signRequest,
  splitSignature,
  unseal,
  unwrapChannelKey,
  verifySignature,
  wrapChannelKey,
} from '../../src/session/auth.js';

const request = {
  v: 1,
  id: '5:2',
  session: 5,
  seq: 2,
  op: { type: 'setData', path: '/a', data: new Uint8Array([1, 2, 3]), version: -1 },
};

describe('request signatures', () => {
  it('a signed request decodes as it was sent and verifies under its key only', () => {
    const key = newSessionKey();
    const body = encodeMessage(request);
    const signed = signRequest(key, body);
    const split = splitSignature(signed);
    expect(split.text).toBe(body);
    expect(decodeMessage(split.text)).toEqual(request);
    expect(verifySignature(key, split)).toBe(true);
    expect(verifySignature(newSessionKey(), split)).toBe(false);
    expect(verifySignature(undefined, split)).toBe(false);
  });

  it('any change to the signed bytes, binary fields included, breaks the signature', () => {
    const key = newSessionKey();
    const signed = signRequest(key, encodeMessage(request));
    const changedSeq = signed.replace('"seq":2', '"seq":3');
    const changedData = signed.replace(/\n.*$/, `\n${Buffer.from([9, 9, 9]).toString('base64')}`);
    for (const forged of [changedSeq, changedData]) {
      expect(forged).not.toBe(signed);
      expect(verifySignature(key, splitSignature(forged))).toBe(false);
    }
  });

  it('an unsigned request has no signature to verify', () => {
    const split = splitSignature(encodeMessage(request));
    expect(split.mac).toBeUndefined();
    expect(verifySignature(newSessionKey(), split)).toBe(false);
  });
});

describe('channel sealing', () => {
  it('a box opens only with its key and the place it was sealed for', () => {
    const key = channelKey('secret', 7);
    const aad = channelAad(7, [3, 1], 10, 9);
    const box = seal(key, new TextEncoder().encode('hello'), aad);
    expect(new TextDecoder().decode(unseal(key, box, aad))).toBe('hello');
    expect(() => unseal(channelKey('other secret', 7), box, aad)).toThrow();
    expect(() => unseal(channelKey('secret', 8), box, aad)).toThrow();
    expect(() => unseal(key, box, channelAad(7, [3, 2], 10, 9))).toThrow();
    const tampered = box.slice();
    tampered[14]! ^= 1;
    expect(() => unseal(key, tampered, aad)).toThrow();
  });

  it('the wrapped channel key opens only with the session key, for its session', () => {
    const sessionKey = newSessionKey();
    const key = channelKey('secret', 7);
    const wrapped = wrapChannelKey(sessionKey, 7, key);
    expect(unwrapChannelKey(sessionKey, 7, wrapped)).toEqual(key);
    expect(() => unwrapChannelKey(newSessionKey(), 7, wrapped)).toThrow();
    expect(() => unwrapChannelKey(sessionKey, 8, wrapped)).toThrow();
  });
});
