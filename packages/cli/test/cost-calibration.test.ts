// The committed cost calibration (src/cost/calibration.json) cannot go stale: this regenerates it on
// the local stacks and compares. A change that adds or removes a billable request of an operation
// (unbatched, or per write at batch 10 on AWS), moves the idle client's cost by more than half, or
// changes a price table fails here, with the command that regenerates the file.
import { localAwsStackMissing } from '@faaskeeper/aws/local';
import { requireOrSkip } from '@faaskeeper/core/testkit';
import { missingEmulators, missingStorageEmulator } from '@faaskeeper/gcp/local';
import { describe, expect, it } from 'vitest';
import { committedCalibration, REGENERATE_COMMAND } from '../src/cost/calibration.js';
import { compareCalibrations, TOLERANCE } from '../src/cost/compare.js';
import { measureCalibration } from '../src/cost/measure.js';

const committed = committedCalibration();
const STALE = `the committed cost calibration is stale: regenerate it (from the repository root, after building the CLI) with\n  node packages/cli/dist/bin.js ${REGENERATE_COMMAND.replace(/^faaskeeper /, '')} packages/cli/src/cost/calibration.json\nand commit it with the docs' figures (docs/providers/*.md, README)`;

/** Measures `only` as the committed file was measured (runs, idle window and clients), and compares. */
async function freshAgainstCommitted(only: string[]): Promise<string[]> {
  const fresh = await measureCalibration({
    only,
    runs: committed.runs,
    idleWindowSeconds: committed.idleWindowSeconds,
    idleClients: committed.idleClients,
    progress: (line) => console.log(`measuring ${line}`),
  });
  return compareCalibrations(fresh, committed);
}

/*
 * 600 s per provider: each measures two configurations on its local stack: five runs of every
 * operation, the batched writes, and the idle clients on the real clock (AWS: 22 s of settling
 * after the long polls the clients start with, then 18 s of window; GCP: 3 s and 20 s). That is 80
 * s of fixed waits on AWS; the AWS test took 142 s and 176 s, and the GCP one 89 s and 100 s, in
 * two runs here under load: the AWS one up to 59% of the 300 s it had, which a slower machine would
 * use up.
 */
describe(`the committed cost calibration matches the local stacks (requests equal, at batch 10 too; bytes ±${TOLERANCE.bytes * 100}%, idle client ±${TOLERANCE.idle * 100}%)`, () => {
  it('on AWS, with the S3 and with the DynamoDB user store', async (ctx) => {
    if (!requireOrSkip(ctx, localAwsStackMissing(), 'the local AWS stack')) return;
    expect(await freshAgainstCommitted(['aws/s3', 'aws/dynamodb']), STALE).toEqual([]);
  }, 600_000);

  it('on GCP (push invocation), with the Cloud Storage and with the Datastore user store', async (ctx) => {
    if (!requireOrSkip(ctx, missingEmulators(), 'the GCP emulators')) return;
    if (!requireOrSkip(ctx, missingStorageEmulator(), 'the Cloud Storage emulator')) return;
    expect(await freshAgainstCommitted(['gcp/gcs', 'gcp/datastore']), STALE).toEqual([]);
  }, 600_000);
});
