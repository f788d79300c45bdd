/**
 * The guarantee suite: the behaviour API.md and DESIGN.md promise, one `describe…Guarantees`
 * function per area, each taking the {@link DeploymentTarget} to check it on. The embedded
 * deployment runs them in `packages/core/test/guarantees`; each provider runs them on its local
 * stack, so that every deployment passes the same tests.
 */
import type { DeploymentTarget } from '../target.js';
import { describeAclsGuarantees } from './acls.js';
import { describeAtomicReadsGuarantees } from './atomic-reads.js';
import { type ChildrenGuaranteeOptions, cloudManyChildren, describeChildrenGuarantees } from './children.js';
import { describeContainersTtlGuarantees } from './containers-ttl.js';
import { describeErrorsGuarantees } from './errors.js';
import { describeMultiGuarantees } from './multi.js';
import { describeOrderingGuarantees } from './ordering.js';
import { describePipeliningGuarantees } from './pipelining.js';
import { describeSequentialGuarantees } from './sequential.js';
import { describeSessionsGuarantees } from './sessions.js';
import { describeStatGuarantees } from './stat.js';
import { describeSyncGuarantees } from './sync.js';
import { describeWatchesGuarantees } from './watches.js';

export {
  ChannelDelays,
  expectError,
  type GuaranteeKit,
  gate,
  guaranteeKit,
  type Harness,
  limitTransactionItems,
  recorder,
  text,
  track,
} from './helpers.js';
export { describeHostileClientGuarantees } from './hostile.js';
export {
  type ChildrenGuaranteeOptions,
  cloudManyChildren,
  describeAclsGuarantees,
  describeAtomicReadsGuarantees,
  describeChildrenGuarantees,
  describeContainersTtlGuarantees,
  describeErrorsGuarantees,
  describeMultiGuarantees,
  describeOrderingGuarantees,
  describePipeliningGuarantees,
  describeSequentialGuarantees,
  describeSessionsGuarantees,
  describeStatGuarantees,
  describeSyncGuarantees,
  describeWatchesGuarantees,
};

/** Every area of the suite by name, for a provider that splits the suite over several test files. */
export const guaranteeAreas = {
  acls: describeAclsGuarantees,
  'atomic-reads': describeAtomicReadsGuarantees,
  // 90 creates per multi: within one DynamoDB transaction (100 items) with the parent and the
  // writer state, so the same test runs on every deployment; the large parent is
  // `cloudManyChildren()` (30,000 unless told; 100,000 took 8 minutes on the emulators of a loaded
  // machine), with 20 minutes for it.
  children: (target: DeploymentTarget) =>
    describeChildrenGuarantees(target, {
      multiOps: 90,
      manyChildren: cloudManyChildren(),
      manyChildrenTimeoutMs: 1_200_000,
    }),
  'containers-ttl': describeContainersTtlGuarantees,
  errors: describeErrorsGuarantees,
  multi: describeMultiGuarantees,
  ordering: describeOrderingGuarantees,
  pipelining: describePipeliningGuarantees,
  sequential: describeSequentialGuarantees,
  sessions: describeSessionsGuarantees,
  stat: describeStatGuarantees,
  sync: describeSyncGuarantees,
  watches: describeWatchesGuarantees,
} as const satisfies Record<string, (target: DeploymentTarget) => void>;

/** The name of one area of the guarantee suite. */
export type GuaranteeArea = keyof typeof guaranteeAreas;

/** Runs the whole guarantee suite on `target` (every area). */
export function describeGuarantees(target: DeploymentTarget): void {
  for (const describeArea of Object.values(guaranteeAreas)) describeArea(target);
}
