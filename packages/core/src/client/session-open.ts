/** The first request of a client: open a new session, or resume one by its id (docs/guarantees.md "Sessions"). */

import type { Liveness } from './liveness.js';
import type { RequestPipeline } from './request-pipeline.js';
import type { SessionKeys } from './session-keys.js';

/**
 * Opens the session (`timeoutMs` asked for) or, when `incarnation` is not 0, resumes it: the
 * writer's reply hands over the session key, and a resumed session goes on after its last seq
 * with the timeout it was opened with.
 */
export async function openOrResume(
  pipeline: RequestPipeline,
  keys: SessionKeys,
  liveness: Liveness,
  incarnation: number,
  timeoutMs: number,
): Promise<void> {
  if (incarnation === 0) {
    await pipeline.request({ type: 'openSession', timeoutMs, key: keys.encoded }, (r) => keys.take(r.key));
    return;
  }
  const resumed = await pipeline.request({ type: 'resumeSession', incarnation }, (r) => keys.take(r.key));
  pipeline.continueAfter(resumed.lastSeq);
  liveness.retime(resumed.timeoutMs);
}
