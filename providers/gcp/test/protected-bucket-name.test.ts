import { describe, expect, it } from 'vitest';
import { protectedBucketOf } from '../src/deployment.js';

/** GCS bucket names without dots: 3-63 characters, lowercase letters, digits, `-` and `_`, starting and ending alphanumeric. */
const VALID_BUCKET = /^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$/;

describe("the GCS user store's protected bucket name", () => {
  it('replaces -data by -prot, keeping the length', () => {
    expect(protectedBucketOf('proj-fk-data')).toBe('proj-fk-prot');
  });

  it('appends -prot to any other short name', () => {
    expect(protectedBucketOf('my-nodes')).toBe('my-nodes-prot');
  });

  it('stays a valid bucket name for data buckets of 59 to 63 characters', () => {
    for (const length of [59, 60, 61, 62, 63]) {
      const bucket = `a${'b'.repeat(length - 2)}c`;
      const prot = protectedBucketOf(bucket);
      expect(prot, bucket).toMatch(VALID_BUCKET);
      expect(prot).not.toBe(bucket);
    }
  });

  it('gives two long data buckets that share their first 50 characters different protected buckets', () => {
    const prefix = 'x'.repeat(50);
    const a = protectedBucketOf(`${prefix}-tenant-one-nodes`);
    const b = protectedBucketOf(`${prefix}-tenant-two-nodes`);
    expect(a).not.toBe(b);
    expect(a).toMatch(VALID_BUCKET);
    expect(b).toMatch(VALID_BUCKET);
  });

  it('does not leave a separator before the hash when the cut falls on one', () => {
    const bucket = `${'p'.repeat(48)}--------------`;
    expect(protectedBucketOf(bucket)).not.toMatch(/[-_]{2}/);
  });
});
