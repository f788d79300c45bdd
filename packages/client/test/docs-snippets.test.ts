import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const doc = readFileSync(new URL('docs/recipes.md', root), 'utf8');

/** The lines between `// #region <name>` and `// #endregion <name>` of a source file, dedented. */
function region(file: string, name: string): string {
  const lines = readFileSync(new URL(file, root), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.trim() === `// #region ${name}`);
  const end = lines.findIndex((l) => l.trim() === `// #endregion ${name}`);
  if (start < 0 || end < start) throw new Error(`no region ${name} in ${file}`);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return body.map((l) => l.slice(indent)).join('\n');
}

const snippets = [...doc.matchAll(/<!-- snippet: (\S+)#(\S+) -->\n```ts\n([\s\S]*?)\n```/g)];

describe('docs/recipes.md', () => {
  it('has its code samples taken from compiled, tested sources', () => {
    expect(snippets.length).toBeGreaterThanOrEqual(10);
  });

  it.each(snippets.map((m) => [`${m[1]}#${m[2]}`, m[1]!, m[2]!, m[3]!]))(
    'shows %s exactly as in the source',
    (_label, file, name, code) => {
      expect(code).toBe(region(file, name));
    },
  );
});
