/**
 * ZooKeeper's error codes, by name, with ZooKeeper's numbers (`KeeperException.Code`).
 * `NOWATCHER` is ZooKeeper's answer to `removeWatches` for a watch that is not there.
 */
export const ErrorCodes = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  REQUESTTIMEOUT: -122,
} as const;

/** A ZooKeeper error name such as `'NONODE'`. */
export type ErrorCode = keyof typeof ErrorCodes;

/** One entry of a failed multi's `results`: `'OK'`, the failing op's code, then `'RUNTIMEINCONSISTENCY'`. */
export interface MultiErrorResult {
  code: ErrorCode;
}

/** Options of a {@link FaaSKeeperError}. */
export interface FaaSKeeperErrorOptions {
  path?: string | undefined;
  results?: MultiErrorResult[] | undefined;
  cause?: unknown;
}

/**
 * The one error type users see. `code` is ZooKeeper's name, `errno` its number. A failed `multi`
 * carries `results`, one entry per op.
 */
export class FaaSKeeperError extends Error {
  override readonly name = 'FaaSKeeperError';
  readonly code: ErrorCode;
  readonly errno: number;
  readonly path: string | undefined;
  readonly results: MultiErrorResult[] | undefined;

  constructor(code: ErrorCode, message?: string, options: FaaSKeeperErrorOptions = {}) {
    super(
      message ?? (options.path === undefined ? code : `${code}: ${options.path}`),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
    this.errno = ErrorCodes[code];
    this.path = options.path;
    this.results = options.results;
  }
}

/** True when `value` is a {@link FaaSKeeperError}, optionally with the given code. */
export function isFaaSKeeperError(value: unknown, code?: ErrorCode): value is FaaSKeeperError {
  return value instanceof FaaSKeeperError && (code === undefined || value.code === code);
}

/** True when `name` is one of ZooKeeper's error names. */
export function isErrorCode(name: unknown): name is ErrorCode {
  return typeof name === 'string' && Object.hasOwn(ErrorCodes, name);
}
