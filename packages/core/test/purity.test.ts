import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// DESIGN.md §3 / STYLE.md: core and client hold all the logic and stay free of cloud SDKs, so
// that adapters are thin and the embedded deployment runs anywhere. Biome enforces this at lint
// time (noRestrictedImports); this test enforces it on every file and on the manifests.
const root = join(import.meta.dirname, '..', '..', '..');
const pure = ['packages/core', 'packages/client'];
const forbidden =
  /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](@aws-sdk\/|@google-cloud\/|aws-sdk['"/]|firebase-admin|@smithy\/)/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mts|js|mjs)$/.test(name) ? [path] : [];
  });
}

describe('core and client stay free of cloud SDKs', () => {
  for (const pkg of pure) {
    it(`${pkg} imports no cloud SDK`, () => {
      const files = sources(join(root, pkg, 'src'));
      expect(files.length).toBeGreaterThan(0);
      const offenders = files.filter((f) => forbidden.test(readFileSync(f, 'utf8')));
      expect(offenders).toEqual([]);
    });

    it(`${pkg} depends on no cloud SDK`, () => {
      const manifest = JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8')) as Record<
        string,
        Record<string, string> | undefined
      >;
      const deps = Object.keys({
        ...manifest.dependencies,
        ...manifest.peerDependencies,
        ...manifest.optionalDependencies,
      });
      expect(
        deps.filter((d) => /^(@aws-sdk\/|@google-cloud\/|aws-sdk$|firebase-admin$|@smithy\/)/.test(d)),
      ).toEqual([]);
    });
  }

  it('the pattern catches a cloud SDK import', () => {
    // Built from parts so that this file itself holds no cloud SDK import for other scanners to flag.
    const aws = ['@aws-sdk', 'client-s3'].join('/');
    const gcp = ['@google-cloud', 'datastore'].join('/');
    expect(forbidden.test(`import { S3Client } from '${aws}';`)).toBe(true);
    expect(forbidden.test(`const { Datastore } = await import('${gcp}');`)).toBe(true);
    expect(forbidden.test("import { x } from './aws-sdk-like.js';")).toBe(false);
  });
});
