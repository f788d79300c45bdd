import { FaaSKeeperError } from './errors.js';

/** ZooKeeper's create modes. */
export const CreateMode = {
  PERSISTENT: 'PERSISTENT',
  EPHEMERAL: 'EPHEMERAL',
  PERSISTENT_SEQUENTIAL: 'PERSISTENT_SEQUENTIAL',
  EPHEMERAL_SEQUENTIAL: 'EPHEMERAL_SEQUENTIAL',
  CONTAINER: 'CONTAINER',
  PERSISTENT_WITH_TTL: 'PERSISTENT_WITH_TTL',
  PERSISTENT_SEQUENTIAL_WITH_TTL: 'PERSISTENT_SEQUENTIAL_WITH_TTL',
} as const;
export type CreateMode = (typeof CreateMode)[keyof typeof CreateMode];

/** What kind of node a mode makes; stored with the node. */
export type NodeKind = 'persistent' | 'ephemeral' | 'container' | 'ttl';

export interface ModeTraits {
  kind: NodeKind;
  sequential: boolean;
}

const TRAITS: Record<CreateMode, ModeTraits> = {
  PERSISTENT: { kind: 'persistent', sequential: false },
  EPHEMERAL: { kind: 'ephemeral', sequential: false },
  PERSISTENT_SEQUENTIAL: { kind: 'persistent', sequential: true },
  EPHEMERAL_SEQUENTIAL: { kind: 'ephemeral', sequential: true },
  CONTAINER: { kind: 'container', sequential: false },
  PERSISTENT_WITH_TTL: { kind: 'ttl', sequential: false },
  PERSISTENT_SEQUENTIAL_WITH_TTL: { kind: 'ttl', sequential: true },
};

/** ZooKeeper's bound on a TTL (its EphemeralType.MAX_TTL, 2^40 - 1 ms). */
export const MAX_TTL_MS = 2 ** 40 - 1;

/** True when `mode` is one of {@link CreateMode}'s values. */
export function isCreateMode(mode: unknown): mode is CreateMode {
  return typeof mode === 'string' && Object.hasOwn(TRAITS, mode);
}

/**
 * The traits of a create mode, checking the TTL rules: TTL modes need `0 < ttlMs ≤ MAX_TTL_MS`,
 * other modes must not be given a TTL.
 * @throws FaaSKeeperError BADARGUMENTS for an unknown mode or a bad TTL.
 */
export function modeTraits(mode: unknown, ttlMs?: number): ModeTraits {
  if (!isCreateMode(mode))
    throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: unknown create mode ${String(mode)}`);
  const traits = TRAITS[mode];
  if (traits.kind === 'ttl') {
    if (ttlMs === undefined || !Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > MAX_TTL_MS) {
      throw new FaaSKeeperError(
        'BADARGUMENTS',
        `BADARGUMENTS: ${mode} needs a ttlMs between 1 and ${MAX_TTL_MS}`,
      );
    }
  } else if (ttlMs !== undefined) {
    throw new FaaSKeeperError(
      'BADARGUMENTS',
      `BADARGUMENTS: ttlMs is only allowed with a TTL mode, not ${mode}`,
    );
  }
  return traits;
}
