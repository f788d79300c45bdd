import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The docs run the CLI one way, `npx faaskeeper <command>`, which works in a clone (the root links
// the command) and in a project that installed the package (packaging.test.ts runs both). A bare
// `faaskeeper` is not on a clone's PATH, and `node packages/cli/dist/bin.js` only works in a clone.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The markdown a user reads: the root README, docs/, and every package's and example's README and docs. */
function pages(dir = ROOT): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (['node_modules', 'dist', 'api', '.git', '.turbo'].includes(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...pages(path));
    else if (entry.endsWith('.md')) out.push(path);
  }
  return out.sort();
}

/** The lines of a page's fenced code blocks and tables: where commands are written to be run. */
function commandLines(markdown: string): string[] {
  const lines: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    else if (fenced) lines.push(line.replace(/^\$ /, ''));
    // A table cell that is one code span is a command (the README's commands table).
    else if (line.startsWith('|'))
      for (const cell of line.split('|')) {
        const code = /^\s*`([^`]+)`\s*$/.exec(cell);
        if (code !== null) lines.push(code[1]!);
      }
  }
  return lines;
}

describe('the CLI in the docs', () => {
  it('every page runs it as npx faaskeeper, never as a bare faaskeeper, pnpm exec or dist/bin.js', () => {
    const files = pages();
    expect(files.map((f) => relative(ROOT, f))).toEqual(
      expect.arrayContaining([
        'README.md',
        'docs/cli.md',
        'docs/getting-started.md',
        'packages/cli/README.md',
      ]),
    );
    const other: string[] = [];
    let runs = 0;
    for (const file of files)
      for (const line of commandLines(readFileSync(file, 'utf8'))) {
        if (/(^|[\s;&|(])npx faaskeeper /.test(line)) runs++;
        if (/^faaskeeper |dist\/bin\.js|pnpm(@[\d.]+)? exec faaskeeper/.test(line))
          other.push(`${relative(ROOT, file)}: ${line}`);
      }
    expect(runs).toBeGreaterThan(10);
    expect(other).toEqual([]);
  });
});
