/** The digest scheme's ids: `user:base64(sha1("user:password"))`, as ZooKeeper's DigestAuthenticationProvider. */
import { createHash } from 'node:crypto';

/**
 * The digest id of `"user:password"`: the user (the text before the first colon, or all of it)
 * and the base64 SHA-1 of the whole text. What `addAuth('digest', …)` authenticates as, and what
 * a `digest:` ACL entry names (zkCli users compute it by hand for `setAcl`).
 */
export function generateDigest(userPassword: string): string {
  const colon = userPassword.indexOf(':');
  const user = colon === -1 ? userPassword : userPassword.slice(0, colon);
  return `${user}:${createHash('sha1').update(userPassword, 'utf8').digest('base64')}`;
}
