import { describe, expect, it } from 'vitest';
import { pathProblem } from '../../src/model/path.js';

/** The rule as ZooKeeper states it, by splitting: the reference the in-place scan must agree with. */
function bySplitting(path: string, sequential: boolean): string | undefined {
  if (path.length === 0 || path[0] !== '/' || path.length === 1) return pathProblem(path, sequential);
  if (path.endsWith('/') && !sequential) return 'path must not end with /';
  const segments = path.slice(1).split('/');
  for (let i = 0; i < segments.length; i++) {
    const last = i === segments.length - 1;
    if (segments[i] === '' && !(last && sequential)) return 'path must not contain an empty segment';
    if (segments[i] === '.' || segments[i] === '..') return 'path must not contain . or .. segments';
  }
  return pathProblem(path, sequential);
}

describe('pathProblem', () => {
  it('names the problem of each malformed path and accepts well-formed ones', () => {
    expect(pathProblem('/')).toBeUndefined();
    expect(pathProblem('/a/b.c/..d/d..')).toBeUndefined();
    expect(pathProblem('/a/')).toBe('path must not end with /');
    expect(pathProblem('/a/', true)).toBeUndefined();
    expect(pathProblem('//a', true)).toBe('path must not contain an empty segment');
    expect(pathProblem('/a//b')).toBe('path must not contain an empty segment');
    expect(pathProblem('/a/.')).toBe('path must not contain . or .. segments');
    expect(pathProblem('/../a')).toBe('path must not contain . or .. segments');
    expect(pathProblem('/a/./b', true)).toBe('path must not contain . or .. segments');
    expect(pathProblem('/a\u0000b')).toBe('path contains a forbidden character at index 2');
    expect(pathProblem('a')).toBe('path must start with /');
  });

  it('agrees with the rule applied by splitting on 20,000 random paths (seeded)', () => {
    let seed = 20261205;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const alphabet = ['/', '/', '.', '.', 'a', 'b', '\u0001', 'é'];
    for (let n = 0; n < 20_000; n++) {
      let path = '/';
      const length = Math.floor(next() * 9);
      for (let i = 0; i < length; i++) path += alphabet[Math.floor(next() * alphabet.length)];
      const sequential = next() < 0.5;
      expect(pathProblem(path, sequential), `${JSON.stringify(path)} sequential=${sequential}`).toBe(
        bySplitting(path, sequential),
      );
    }
  });
});
