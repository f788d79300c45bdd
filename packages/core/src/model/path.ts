import { FaaSKeeperError } from './errors.js';

/** The root of the tree. */
export const ROOT = '/';
/** ZooKeeper keeps `/zookeeper` for itself; writes there are refused. */
export const RESERVED = '/zookeeper';

// ZooKeeper's PathUtils.validatePath refuses these code points anywhere in a path.
function isForbiddenChar(code: number): boolean {
  return (
    code === 0 ||
    (code > 0x00 && code <= 0x1f) ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0xd800 && code <= 0xf8ff) ||
    (code >= 0xfff0 && code <= 0xffff)
  );
}

const SLASH = 0x2f;
const DOT = 0x2e;

/** Why `path` is not a valid node path, or `undefined` when it is. */
export function pathProblem(path: unknown, sequential = false): string | undefined {
  if (typeof path !== 'string') return 'path must be a string';
  if (path.length === 0) return 'path must not be empty';
  if (path[0] !== '/') return 'path must start with /';
  if (path.length === 1) return undefined;
  // A sequential create may end in '/': ZooKeeper appends the counter to the prefix as given.
  if (path.endsWith('/') && !sequential) return 'path must not end with /';
  // The segments between slashes, scanned in place: every request checks its path, and a split
  // would allocate an array and a string per segment.
  let start = 1;
  for (let i = 1; i <= path.length; i++) {
    if (i < path.length && path.charCodeAt(i) !== SLASH) continue;
    const length = i - start;
    if (length === 0 && !(i === path.length && sequential)) return 'path must not contain an empty segment';
    if (
      (length === 1 || length === 2) &&
      path.charCodeAt(start) === DOT &&
      (length === 1 || path.charCodeAt(start + 1) === DOT)
    )
      return 'path must not contain . or .. segments';
    start = i + 1;
  }
  for (let i = 0; i < path.length; i++) {
    if (isForbiddenChar(path.charCodeAt(i))) return `path contains a forbidden character at index ${i}`;
  }
  return undefined;
}

/**
 * Validates a node path by ZooKeeper's rules.
 * @throws FaaSKeeperError BADARGUMENTS for any malformed path.
 */
export function validatePath(path: unknown, sequential = false): asserts path is string {
  const problem = pathProblem(path, sequential);
  if (problem !== undefined) {
    throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: ${problem}: ${JSON.stringify(path)}`, {
      path: typeof path === 'string' ? path : undefined,
    });
  }
}

/** True for `/zookeeper` and everything below it. */
export function isReserved(path: string): boolean {
  return path === RESERVED || path.startsWith(`${RESERVED}/`);
}

/** The parent of a valid non-root path (`/a/b` → `/a`, `/a` → `/`). */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? ROOT : path.slice(0, i);
}

/** The last segment of a valid non-root path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `child` under `parent`. */
export function joinPath(parent: string, child: string): string {
  return parent === ROOT ? `/${child}` : `${parent}/${child}`;
}

/** ZooKeeper's 10-digit zero-padded sequence suffix. */
export function sequenceSuffix(counter: number): string {
  return counter < 0 ? String(counter) : String(counter).padStart(10, '0');
}
