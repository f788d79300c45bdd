// The packages as a user gets them: `pnpm tarballs` (the root script getting-started tells a user
// to run) builds and packs every publishable package; the tarballs are installed with plain npm
// into a fresh project outside the workspace, where the documented programs and commands run.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TARBALLS = join(ROOT, 'dist', 'tarballs');
const PNPM = ['-y', 'pnpm@10.34.8'];
/** The packages a user installs, by tarball name (`pnpm pack` names them after the package). */
const PUBLISHED = {
  '@faaskeeper/core': 'faaskeeper-core-0.1.0.tgz',
  '@faaskeeper/client': 'faaskeeper-client-0.1.0.tgz',
  '@faaskeeper/gateway': 'faaskeeper-gateway-0.1.0.tgz',
  faaskeeper: 'faaskeeper-0.1.0.tgz',
  '@faaskeeper/aws': 'faaskeeper-aws-0.1.0.tgz',
  '@faaskeeper/gcp': 'faaskeeper-gcp-0.1.0.tgz',
} as const;
/**
 * What the install test installs: the client, core and the CLI (with the gateway it depends on).
 * The provider tarballs pull the AWS and Google Cloud SDKs (hundreds of MB); they are checked for
 * their contents only.
 */
const INSTALLED = ['@faaskeeper/core', '@faaskeeper/client', '@faaskeeper/gateway', 'faaskeeper'] as const;
const ROOT_DEV = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest).devDependencies;
/** The tools the user's project adds: the workspace's TypeScript and Node types, and tsx to run .ts files. */
const TOOLS = [
  `typescript@${ROOT_DEV?.typescript}`,
  `@types/node@${ROOT_DEV?.['@types/node']}`,
  'tsx@4.23.15',
];

interface Manifest {
  name: string;
  version: string;
  main?: string;
  types?: string;
  exports?: unknown;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a command run as a user would run it: without the `npm_*` variables of the
 * pnpm or npm process that started the tests (their config would leak into the user's npm).
 */
const USER_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

/** Runs a command to its end and resolves its exit code and output (a failing exit is a result, not a throw). */
function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: USER_ENV, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') reject(error);
      else resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

/** {@link run}, failing with the command's output unless it exits 0. */
async function ok(command: string, args: string[], cwd: string): Promise<Run> {
  const result = await run(command, args, cwd);
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** The paths in a tarball, without npm's `package/` prefix. */
async function listing(tarball: string): Promise<string[]> {
  const { stdout } = await ok('tar', ['-tzf', tarball], ROOT);
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^package\//, ''));
}

/** Every file path an `exports` map names (all conditions, all subpaths). */
function exportTargets(exports: unknown): string[] {
  if (typeof exports === 'string') return [exports];
  if (typeof exports !== 'object' || exports === null) return [];
  return Object.values(exports).flatMap(exportTargets);
}

/** The ts blocks of a markdown page, in order. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

let project: string;
/** Each step runs npm, tsc or node in a child process; a loaded CI machine (2 cores) needs time for tsc. */
const STEP_TIMEOUT = 120_000;

beforeAll(async () => {
  await rm(TARBALLS, { recursive: true, force: true });
  await ok('npx', [...PNPM, 'tarballs'], ROOT);
  project = await mkdtemp(join(tmpdir(), 'faaskeeper-user-'));
  // Inside the workspace, node would find the workspace's own node_modules and prove nothing.
  if (!relative(ROOT, project).startsWith('..'))
    throw new Error(`${project} is inside the workspace ${ROOT}`);
  await writeFile(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'faaskeeper-user', private: true, type: 'module' }, null, 2)}\n`,
  );
  // All tarballs in one install, so that npm resolves the packages' dependencies on one another
  // (pnpm pack turned `workspace:*` into their version) to the tarballs, not to the registry.
  await ok(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      ...INSTALLED.map((name) => join(TARBALLS, PUBLISHED[name])),
      ...TOOLS,
    ],
    project,
  );
}, 300_000);

afterAll(async () => {
  if (project !== undefined) await rm(project, { recursive: true, force: true });
});

describe('packages a user installs', () => {
  it(
    'every publishable package packs with its build, types, README, LICENSE and exports that exist in the tarball',
    async () => {
      expect((await readdir(TARBALLS)).sort()).toEqual(Object.values(PUBLISHED).sort());
      for (const [name, file] of Object.entries(PUBLISHED)) {
        const tarball = join(TARBALLS, file);
        const files = await listing(tarball);
        const manifest = JSON.parse(
          (await ok('tar', ['-xzOf', tarball, 'package/package.json'], ROOT)).stdout,
        ) as Manifest;
        expect(manifest.name).toBe(name);
        expect(files, name).toEqual(
          expect.arrayContaining([
            'package.json',
            'README.md',
            'LICENSE',
            'dist/index.js',
            'dist/index.d.ts',
          ]),
        );
        // Every entry point and its types are in the tarball, and every built module has its types.
        const targets = [
          ...exportTargets(manifest.exports),
          ...Object.values(manifest.bin ?? {}),
          // For tools that predate `exports` (TypeScript's "moduleResolution": "node").
          manifest.main ?? 'no main',
          manifest.types ?? 'no types',
        ];
        const missing = targets.map((t) => t.replace(/^\.\//, '')).filter((t) => !files.includes(t));
        expect(missing, `${name}: exports or bin naming files the tarball lacks`).toEqual([]);
        const untyped = files
          .filter((f) => f.startsWith('dist/') && f.endsWith('.js'))
          .filter((f) => !files.includes(f.replace(/\.js$/, '.d.ts')));
        expect(untyped, `${name}: modules without declarations`).toEqual([]);
        // Nothing of the workspace leaks: no tests, no `workspace:` ranges npm cannot resolve.
        expect(
          files.filter((f) => /(^|\/)test\/|\.test\.|tsconfig|\.tsbuildinfo$/.test(f)),
          name,
        ).toEqual([]);
        const ranges = [manifest.dependencies, manifest.peerDependencies].flatMap((d) =>
          Object.values(d ?? {}),
        );
        expect(
          ranges.filter((r) => r.startsWith('workspace:')),
          name,
        ).toEqual([]);
      }
    },
    STEP_TIMEOUT,
  );

  it(
    'a compiled TypeScript program (strict, NodeNext) runs on the embedded deployment',
    async () => {
      await mkdir(join(project, 'src'), { recursive: true });
      await writeFile(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            noUncheckedIndexedAccess: true,
            exactOptionalPropertyTypes: true,
            verbatimModuleSyntax: true,
            // The packages' own declarations are checked too, as a careful user's build does.
            skipLibCheck: false,
            types: ['node'],
            outDir: 'dist',
            rootDir: 'src',
          },
          include: ['src'],
        }),
      );
      await writeFile(
        join(project, 'src', 'app.ts'),
        `import { CreateMode, type FaaSKeeperClient } from '@faaskeeper/client';
import { TreeCache } from '@faaskeeper/client/recipes';
import { createEmbeddedService } from '@faaskeeper/core';

const service = createEmbeddedService();
const zk: FaaSKeeperClient = await service.connect();
await zk.create('/app', 'v1');
const member = await zk.create('/app/member-', 'me', { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
const cache = new TreeCache(zk, '/app');
await cache.start();
console.log(member, cache.getString('/app'), (cache.children('/app') ?? []).join(','));
await cache.close();
await zk.close();
await service.close();
`,
      );
      await ok('npx', ['tsc', '-p', '.'], project);
      const result = await ok('node', ['dist/app.js'], project);
      expect(result.stdout).toBe('/app/member-0000000000 v1 member-0000000000\n');
    },
    STEP_TIMEOUT,
  );

  it(
    'a plain ESM program runs on the embedded deployment',
    async () => {
      await writeFile(
        join(project, 'plain.mjs'),
        `import { createEmbeddedService } from '@faaskeeper/core';
import { LeaderLatch } from '@faaskeeper/client/recipes';

const service = createEmbeddedService();
const zk = await service.connect();
await zk.create('/election');
const latch = new LeaderLatch(zk, '/election');
await latch.start();
await latch.await();
console.log('leader:', latch.hasLeadership());
await latch.close();
await zk.close();
await service.close();
`,
      );
      expect((await ok('node', ['plain.mjs'], project)).stdout).toBe('leader: true\n');
    },
    STEP_TIMEOUT,
  );

  it(
    "getting-started's samples each run alone with npx tsx, as the page says",
    async () => {
      const page = readFileSync(join(ROOT, 'docs', 'getting-started.md'), 'utf8');
      expect(page).toContain('npx tsx');
      // The vitest file needs vitest, not tsx: the docs snippets test runs it.
      const programs = tsBlocks(page).filter((code) => !code.includes("from 'vitest'"));
      expect(programs.length).toBeGreaterThanOrEqual(3);
      const failed: string[] = [];
      for (const [i, code] of programs.entries()) {
        const file = `sample-${i}.ts`;
        await writeFile(join(project, file), code);
        const result = await run('npx', ['tsx', file], project);
        if (result.code !== 0) failed.push(`${code.split('\n')[0]} …: exit ${result.code}\n${result.stderr}`);
      }
      expect(failed).toEqual([]);
    },
    STEP_TIMEOUT,
  );

  it(
    'npx faaskeeper demo runs the narrated demo',
    async () => {
      const result = await ok('npx', ['faaskeeper', 'demo'], project);
      expect(result.stdout).toContain('Demo complete');
    },
    STEP_TIMEOUT,
  );

  it(
    'in the clone, npx faaskeeper runs the built workspace CLI from the root and from any folder below it',
    async () => {
      // The root depends on the faaskeeper package, so its command is linked in the root's node_modules/.bin.
      for (const cwd of [ROOT, join(ROOT, 'docs'), join(ROOT, 'providers', 'aws')]) {
        const result = await run(
          'npx',
          ['faaskeeper', 'shell', '-c', 'create /in-clone 1; get /in-clone'],
          cwd,
        );
        expect(result, cwd).toEqual({ code: 0, stdout: 'Created /in-clone\n1\n', stderr: '' });
      }
    },
    STEP_TIMEOUT,
  );

  it(
    'npx faaskeeper shell -c runs commands and exits with their outcome',
    async () => {
      const done = await run(
        'npx',
        ['faaskeeper', 'shell', '-c', 'create /a hello; set /a 2; get /a'],
        project,
      );
      expect(done).toEqual({ code: 0, stdout: 'Created /a\n2\n', stderr: '' });
      const failed = await run('npx', ['faaskeeper', 'shell', '-c', 'get /missing'], project);
      expect({ code: failed.code, stderr: failed.stderr }).toEqual({
        code: 1,
        stderr: 'Node does not exist: /missing\n',
      });
      const version = await ok('npx', ['faaskeeper', '--version'], project);
      expect(version.stdout).toBe(
        `${(JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as Manifest).version}\n`,
      );
    },
    STEP_TIMEOUT,
  );
});
