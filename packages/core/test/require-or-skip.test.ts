import { requireOrSkip } from '@faaskeeper/core/testkit';
import { describe, expect, it } from 'vitest';

/** A test context that records its skip notes instead of stopping a test. */
function recordingContext() {
  const notes: (string | undefined)[] = [];
  return { notes, ctx: { skip: (note?: string) => void notes.push(note) } };
}

describe('requireOrSkip: skip here with the reason, fail on CI', () => {
  it('lets the test run when nothing is missing, on CI or not', () => {
    for (const env of [{}, { CI: 'true' }]) {
      const { notes, ctx } = recordingContext();
      expect(requireOrSkip(ctx, undefined, 'the emulators', env)).toBe(true);
      expect(notes).toEqual([]);
    }
  });

  it('skips with what is missing off CI (CI unset, empty, false or 0)', () => {
    for (const env of [{}, { CI: '' }, { CI: 'false' }, { CI: '0' }]) {
      const { notes, ctx } = recordingContext();
      expect(requireOrSkip(ctx, 'no java on PATH', 'the local GCP stack', env)).toBe(false);
      expect(notes).toEqual(['the local GCP stack not run: no java on PATH']);
    }
  });

  it('fails on CI instead of skipping', () => {
    for (const env of [{ CI: 'true' }, { CI: '1' }]) {
      const { notes, ctx } = recordingContext();
      expect(() => requireOrSkip(ctx, 'no java on PATH', 'the local GCP stack', env)).toThrow(
        'the local GCP stack cannot run on CI: no java on PATH',
      );
      expect(notes).toEqual([]);
    }
  });
});
