// Copies code samples from snippets/*.ts into the markdown, so that every sample in the docs is
// code that compiles (docs typecheck) and runs (packages/cli/test/docs-snippets.test.ts).
//
// In a .md file, a line `<!-- snippet: guarantees.ts#sync -->` followed by a ```ts block gets that
// block replaced by the region `// #region sync` … `// #endregion` of snippets/guarantees.ts,
// dedented. A region named `program` is a whole program (its imports included) that a reader runs
// alone, as getting-started.md's samples are. Run: `node docs/sync-snippets.mjs` (or
// `pnpm --filter @faaskeeper/docs sync-snippets`).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const docs = fileURLToPath(new URL('.', import.meta.url));

/** The text of region `name` of a snippet file, dedented and trimmed. */
export function region(file, name) {
  const lines = readFileSync(join(docs, 'snippets', file), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.trim() === `// #region ${name}`);
  if (start < 0) throw new Error(`no region ${name} in snippets/${file}`);
  const end = lines.findIndex((l, i) => i > start && l.trim().startsWith('// #endregion'));
  if (end < 0) throw new Error(`region ${name} in snippets/${file} has no #endregion`);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return body
    .map((l) => l.slice(indent))
    .join('\n')
    .trim();
}

function markdownFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    if (['api', 'node_modules', 'snippets'].includes(entry)) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...markdownFiles(path));
    else if (entry.endsWith('.md')) out.push(path);
  }
  return out;
}

const marker = /<!-- snippet: ([\w.-]+)#([\w-]+) -->\n```ts\n[\s\S]*?```/g;
for (const file of markdownFiles(docs)) {
  const text = readFileSync(file, 'utf8');
  const next = text.replace(
    marker,
    (_, snippet, name) => `<!-- snippet: ${snippet}#${name} -->\n\`\`\`ts\n${region(snippet, name)}\n\`\`\``,
  );
  if (next !== text) {
    writeFileSync(file, next);
    console.log(`updated ${file}`);
  }
}
