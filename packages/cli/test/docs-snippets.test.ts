import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// The docs live beside the packages; their code samples are files in docs/snippets, type-checked
// by the @faaskeeper/docs package. This test keeps the markdown from drifting away from them and
// runs them against the embedded deployment.
const DOCS = fileURLToPath(new URL('../../../docs/', import.meta.url));
const SNIPPETS = join(DOCS, 'snippets');
/**
 * Pages written by other issues whose samples have not moved to docs/snippets yet. Their ts
 * blocks are not checked until they do; take a page off this list when it has.
 */
const NOT_YET_FROM_SNIPPETS = new Set(['adapter-guide.md', 'recipes.md']);

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (['api', 'node_modules', 'snippets'].includes(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...markdownFiles(path));
    else if (entry.endsWith('.md')) out.push(path);
  }
  return out.sort();
}

/** Every `// #region name` … `// #endregion` of the snippet files, dedented and trimmed, by `file#name`. */
function regions(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of readdirSync(SNIPPETS).filter((f) => f.endsWith('.ts'))) {
    const lines = readFileSync(join(SNIPPETS, file), 'utf8').split('\n');
    lines.forEach((line, start) => {
      const m = /^\s*\/\/ #region ([\w-]+)\s*$/.exec(line);
      if (m === null) return;
      const end = lines.findIndex((l, i) => i > start && l.trim().startsWith('// #endregion'));
      const body = lines.slice(start + 1, end);
      const indent = Math.min(
        ...body.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length),
      );
      found.set(
        `${file}#${m[1]}`,
        body
          .map((l) => l.slice(indent))
          .join('\n')
          .trim(),
      );
    });
  }
  return found;
}

/**
 * Snippet files whose `program` region is a whole program, shown whole by the docs (a reader copies it
 * into a file and runs it alone): importing one runs it, so each is imported by a test of its own.
 */
const PROGRAMS = readdirSync(SNIPPETS)
  .filter((f) => f.endsWith('.ts'))
  .filter((f) => /^\/\/ #region program$/m.test(readFileSync(join(SNIPPETS, f), 'utf8')))
  .sort();

const snippetModules = await Promise.all(
  readdirSync(SNIPPETS)
    .filter((f) => f.endsWith('.ts') && !PROGRAMS.includes(f))
    .sort()
    // Importing a snippet also registers any vitest suite it holds (embedded-in-a-test.ts).
    .map(async (file) => ({
      file,
      module: (await import(pathToFileURL(join(SNIPPETS, file)).href)) as { run?: () => Promise<void> },
    })),
);

describe('docs code samples', () => {
  it('every ts block in the docs is a region of a docs/snippets file, so it compiles', () => {
    const known = regions();
    const drifted: string[] = [];
    let blocks = 0;
    for (const file of markdownFiles(DOCS)) {
      if (NOT_YET_FROM_SNIPPETS.has(relative(DOCS, file))) continue;
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:<!-- snippet: ([\w.-]+#[\w-]+) -->\n)?```ts\n([\s\S]*?)```/g)) {
        blocks++;
        const code = m[2]!.trim();
        const named = m[1];
        const ok = named === undefined ? [...known.values()].includes(code) : known.get(named) === code;
        if (!ok) drifted.push(`${relative(DOCS, file)}: ${named ?? code.split('\n')[0]}`);
      }
    }
    expect(blocks).toBeGreaterThan(0);
    expect(drifted, 'run `node docs/sync-snippets.mjs` after editing docs/snippets').toEqual([]);
  });

  it('every region the markdown names exists', () => {
    const known = regions();
    const missing: string[] = [];
    for (const file of markdownFiles(DOCS))
      for (const m of readFileSync(file, 'utf8').matchAll(/<!-- snippet: ([\w.-]+#[\w-]+) -->/g))
        if (!known.has(m[1]!)) missing.push(`${relative(DOCS, file)}: ${m[1]}`);
    expect(missing).toEqual([]);
  });

  it('every sample of getting-started.md runs alone: a whole program or test file, its imports included', () => {
    const page = readFileSync(join(DOCS, 'getting-started.md'), 'utf8');
    const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    const partial = blocks.filter((code) => !code.startsWith('import ')).map((code) => code.split('\n')[0]);
    expect(partial, 'a sample that needs imports or a service from another sample').toEqual([]);
  });

  for (const file of PROGRAMS)
    it(`runs ${file} on its own, as a reader who copied it would`, async () => {
      await import(pathToFileURL(join(SNIPPETS, file)).href);
    });

  for (const { file, module } of snippetModules) {
    if (typeof module.run === 'function') {
      const run = module.run;
      it(`runs the samples of ${file} against the embedded deployment`, () => run());
    }
  }
});
