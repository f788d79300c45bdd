/**
 * The ACL page's example (docs/acls.md): a node only its creator may change, read by everyone, and
 * the deployment's super user. `run()` executes it against the embedded deployment
 * (packages/cli/test/docs-snippets.test.ts).
 */
import assert from 'node:assert/strict';
import { FaaSKeeperError, generateDigest, Ids, Perms } from '@faaskeeper/client';
import { createEmbeddedService } from '@faaskeeper/core';

/** Runs the page's example. */
export async function run(): Promise<void> {
  // #region acls
  // The super digest is configured when the deployment starts (ZooKeeper's superDigest).
  const service = createEmbeddedService({ superDigest: generateDigest('super:s3cret') });
  const owner = await service.connect();
  const other = await service.connect();

  await owner.addAuth('digest', 'alice:pw'); // the session is now digest:alice:<base64 sha1>
  await owner.create('/config', 'v1', {
    acl: [
      ...Ids.CREATOR_ALL_ACL, // `auth`: every identity this session added, here alice
      { perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } },
    ],
  });

  assert.equal(new TextDecoder().decode((await other.getData('/config')).data), 'v1');
  try {
    await other.setData('/config', 'v2');
  } catch (error) {
    assert.ok(error instanceof FaaSKeeperError && error.code === 'NOAUTH');
  }

  // getACL needs READ or ADMIN; without ADMIN, digest ids come back as `alice:x`.
  const { acl, stat } = await owner.getACL('/config');
  assert.deepEqual(acl[0], { perms: Perms.ALL, id: { scheme: 'digest', id: generateDigest('alice:pw') } });
  // setACL checks the ACL version (stat.aversion), as setData checks the data version.
  await owner.setACL('/config', Ids.READ_ACL_UNSAFE, stat.aversion);

  // Now nobody may write /config, but the super user may do anything.
  const admin = await service.connect();
  await admin.addAuth('digest', 'super:s3cret');
  await admin.setACL('/config', Ids.OPEN_ACL_UNSAFE);
  await other.setData('/config', 'v2');
  // #endregion
  await service.close();
}
