import type { FaaSKeeperClient } from '@faaskeeper/client';
import { COMMAND_NAMES } from './commands.js';

/**
 * Tab completion for the shell, in readline's shape: resolves `[candidates, word]` where `word` is
 * the part of the line being completed. The first word completes to command names; a word that
 * starts with `/` completes to the children of its parent (`/app/co` lists `/app`'s children
 * starting with `co`). Completion never fails: a missing parent or a lost connection offers nothing.
 */
export async function complete(client: FaaSKeeperClient, line: string): Promise<[string[], string]> {
  // Only the command after the last `;` matters, and only its last (partial) word.
  const command = line.slice(line.lastIndexOf(';') + 1);
  const words = command.trimStart().split(/\s+/);
  const word = /\s$/.test(command) ? '' : (words[words.length - 1] ?? '');
  const first = command.trim() === '' || (words.length === 1 && word !== '');
  if (first) return [COMMAND_NAMES.filter((c) => c.startsWith(word)), word];
  if (!word.startsWith('/')) return [[], word];
  const slash = word.lastIndexOf('/');
  const parent = slash === 0 ? '/' : word.slice(0, slash);
  const prefix = word.slice(slash + 1);
  let children: string[];
  try {
    ({ children } = await client.getChildren(parent));
  } catch {
    return [[], word];
  }
  const base = parent === '/' ? '/' : `${parent}/`;
  return [children.filter((c) => c.startsWith(prefix)).map((c) => base + c), word];
}
