// The function sources `faaskeeper synth gcp` uploads: one zip per function with a bundled
// `index.mjs` and a `package.json`, and what the Cloud Functions runtime does with them: install the
// functions framework and load `index.mjs`, which must register the entry point the function names.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BundledFunction,
  bundleGcpFunctions,
  crc32,
  EXTERNAL_PACKAGES,
  GCP_FUNCTION_NAMES,
  installedPackageRoot,
  zip,
} from '../src/deploy/index.js';

/** Reads a zip's entries from its central directory (an independent reader, not the writer's code). */
function unzip(archive: Buffer): Map<string, Buffer> {
  const end = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = archive.readUInt16LE(end + 10);
  let at = archive.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    expect(archive.readUInt32LE(at)).toBe(0x02014b50);
    const method = archive.readUInt16LE(at + 10);
    const crc = archive.readUInt32LE(at + 16);
    const size = archive.readUInt32LE(at + 20);
    const nameLength = archive.readUInt16LE(at + 28);
    const extra = archive.readUInt16LE(at + 30);
    const comment = archive.readUInt16LE(at + 32);
    const local = archive.readUInt32LE(at + 42);
    const name = archive.toString('utf8', at + 46, at + 46 + nameLength);
    const dataAt = local + 30 + archive.readUInt16LE(local + 26) + archive.readUInt16LE(local + 28);
    const raw = archive.subarray(dataAt, dataAt + size);
    const data = method === 8 ? inflateRawSync(raw) : Buffer.from(raw);
    expect(crc32(data), `crc of ${name}`).toBe(crc);
    files.set(name, data);
    at += 46 + nameLength + extra + comment;
  }
  return files;
}

let dir: string;
let bundles: Record<(typeof GCP_FUNCTION_NAMES)[number], BundledFunction>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fk-gcp-bundles-'));
  bundles = await bundleGcpFunctions(join(dir, 'sources'));
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Lays a function out as Cloud Functions runs it: the zip's files, its dependencies installed next
 * to them (the installed copies), and a script that loads it with the framework's own loader (reads
 * package.json's main, imports it, looks up each entry point). Returns the directory.
 */
const prepared = new Map<string, Promise<string>>();
function prepareRun(name: (typeof GCP_FUNCTION_NAMES)[number]): Promise<string> {
  let done = prepared.get(name);
  if (done === undefined) {
    done = (async () => {
      const root = join(dir, 'run', name);
      await mkdir(join(root, 'node_modules', '@google-cloud'), { recursive: true });
      // What `npm install` puts next to the function: the installed copies of its dependencies.
      for (const pkg of EXTERNAL_PACKAGES)
        await symlink(installedPackageRoot(pkg), join(root, 'node_modules', ...pkg.split('/')), 'dir');
      for (const [file, data] of unzip(await readFile(bundles[name].zipPath)))
        await writeFile(join(root, file), data);
      // The runtime's own loader: reads package.json's main, imports it, looks up the entry point.
      const loader = join(
        root,
        'node_modules',
        '@google-cloud',
        'functions-framework',
        'build',
        'src',
        'loader.js',
      );
      await writeFile(
        join(root, 'check.mjs'),
        [
          `const { getUserFunction } = (await import(${JSON.stringify(loader)})).default;`,
          'const found = [];',
          `for (const target of ${JSON.stringify(GCP_FUNCTION_NAMES)}) {`,
          "  const fn = await getUserFunction(process.cwd(), target, 'http');",
          '  found.push(fn === null ? null : [typeof fn.userFunction, fn.signatureType]);',
          '}',
          'console.log(JSON.stringify(found));',
        ].join('\n'),
      );
      return root;
    })();
    prepared.set(name, done);
  }
  return done;
}

describe('the zip writer', () => {
  it('writes archives that an independent reader extracts byte for byte, the same bytes every time', () => {
    const entries = [
      { name: 'a.txt', data: Buffer.from('hello '.repeat(100)) },
      { name: 'dir/b.bin', data: Buffer.from([0, 1, 2, 255]) },
    ];
    const archive = zip(entries);
    const files = unzip(archive);
    expect([...files.keys()]).toEqual(['a.txt', 'dir/b.bin']);
    expect(files.get('a.txt')?.toString()).toBe('hello '.repeat(100));
    expect([...(files.get('dir/b.bin') ?? [])]).toEqual([0, 1, 2, 255]);
    expect(zip(entries).equals(archive)).toBe(true);
  });

  it('computes the standard CRC-32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('the function bundles', () => {
  it('zips one bundled index.mjs per function with a package.json naming the packages it imports', async () => {
    for (const name of GCP_FUNCTION_NAMES) {
      const files = unzip(await readFile(bundles[name].zipPath));
      expect([...files.keys()].sort()).toEqual(['index.mjs', 'package.json']);
      const pkg = JSON.parse(files.get('package.json')?.toString() ?? '{}');
      expect(pkg).toMatchObject({ type: 'module', main: 'index.mjs' });
      expect(Object.keys(pkg.dependencies).sort()).toEqual([...EXTERNAL_PACKAGES].sort());
      // Everything else (the core, the adapters) is inside the bundle: no other bare import survives.
      const code = files.get('index.mjs')?.toString() ?? '';
      const bare = new Set([...code.matchAll(/\bfrom\s*["']([^"'.][^"']*)["']/g)].map((m) => m[1]));
      for (const specifier of bare)
        if (!specifier?.startsWith('node:')) expect(EXTERNAL_PACKAGES).toContain(specifier);
      expect(code).not.toContain('@faaskeeper/core');
      expect(bundles[name].entryPoint).toBe(name);
    }
  });

  it('loads like the runtime loads it and registers every entry point, configured only by the environment', async () => {
    for (const name of GCP_FUNCTION_NAMES) {
      const root = await prepareRun(name);
      const { stdout } = await promisify(execFile)(process.execPath, ['check.mjs'], {
        cwd: root,
        // What the Terraform configuration sets; nothing is contacted before the first request.
        env: {
          PATH: process.env.PATH ?? '',
          FAASKEEPER_DEPLOYMENT: 'prod',
          FAASKEEPER_USER_STORE: 'gcs',
          FAASKEEPER_BUCKET: 'p-fk-prod-data',
          FAASKEEPER_DATABASE: 'fk-prod',
          GOOGLE_CLOUD_PROJECT: 'p',
        },
        timeout: 30_000,
      });
      expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''), name).toEqual([
        ['function', 'http'],
        ['function', 'http'],
        ['function', 'http'],
      ]);
    }
  }, 60_000);

  it('refuses to load without the deployment in the environment (a misconfigured function does not serve)', async () => {
    const root = await prepareRun('writer');
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['check.mjs'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '')).toEqual([null, null, null]);
    expect(stderr).toMatch(/FAASKEEPER_DEPLOYMENT is not set/);
  }, 30_000);
});
