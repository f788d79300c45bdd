import type { TerraformJson, TfBody } from './terraform.js';

/** One IAM grant of a configuration, normalized. */
export interface IamGrant {
  /** Terraform address of the grant. */
  address: string;
  /** The kind of resource it is bound on: `project`, `topic`, `subscription`, `bucket`, `run-service`, … */
  level: string;
  /** What it is bound on (a Terraform reference or a name); the project id for `project`. */
  target: string;
  role: string;
  /** `serviceAccount:${google_service_account.writer.email}` and the like. */
  member: string;
  /** The IAM condition's expression, if any. */
  condition?: string;
}

/** The IAM resource types this scan understands, and the level each binds at. */
export const IAM_RESOURCE_LEVELS: Record<string, { level: string; target: string }> = {
  google_project_iam_member: { level: 'project', target: 'project' },
  google_pubsub_topic_iam_member: { level: 'topic', target: 'topic' },
  google_pubsub_subscription_iam_member: { level: 'subscription', target: 'subscription' },
  google_storage_bucket_iam_member: { level: 'bucket', target: 'bucket' },
  google_cloud_run_service_iam_member: { level: 'run-service', target: 'service' },
  google_service_account_iam_member: { level: 'service-account', target: 'service_account_id' },
  google_artifact_registry_repository_iam_member: { level: 'repository', target: 'repository' },
};

/** Roles no FaaSKeeper principal gets: the primitive roles. */
export const PRIMITIVE_ROLES = ['roles/owner', 'roles/editor', 'roles/viewer'] as const;
/** Members that would make a grant public. */
export const PUBLIC_MEMBERS = ['allUsers', 'allAuthenticatedUsers'] as const;
/**
 * Predefined roles allowed on the whole project without a condition, with the reason: the service
 * has no narrower scope for them.
 */
export const PROJECT_LEVEL_ALLOWED: Record<string, string> = {
  'roles/logging.logWriter': 'Cloud Build writes build logs; Logging has no narrower scope',
};

/** Every IAM grant in a configuration. Any `*_iam_*` resource type the scan does not know is reported as one with level `unknown`. */
export function iamGrants(config: TerraformJson): IamGrant[] {
  const grants: IamGrant[] = [];
  for (const [type, resources] of Object.entries(config.resource)) {
    if (!/_iam_(member|binding|policy)$/.test(type)) continue;
    for (const [name, body] of Object.entries(resources)) {
      const known = IAM_RESOURCE_LEVELS[type];
      const b = body as TfBody & {
        condition?: { expression?: string };
        members?: string[];
        policy_data?: string;
      };
      const base = {
        address: `${type}.${name}`,
        level: known?.level ?? 'unknown',
        target: String(b[known?.target ?? 'project'] ?? ''),
        role: String(b.role ?? ''),
        ...(b.condition?.expression === undefined ? {} : { condition: b.condition.expression }),
      };
      // Authoritative bindings (members list, policy data) are scanned too, member by member.
      const members =
        b.member !== undefined ? [String(b.member)] : (b.members ?? [String(b.policy_data ?? '')]);
      for (const member of members) grants.push({ ...base, member });
    }
  }
  return grants;
}

/** The permissions of each custom role in a configuration, by Terraform reference `${…id}`. */
export function customRoles(config: TerraformJson): Map<string, string[]> {
  const roles = new Map<string, string[]>();
  for (const [name, body] of Object.entries(config.resource.google_project_iam_custom_role ?? {}))
    roles.set(`\${google_project_iam_custom_role.${name}.id}`, [...((body.permissions as string[]) ?? [])]);
  return roles;
}

/**
 * The least-privilege rules every configuration must keep; returns one line per violation (empty:
 * none). No primitive or admin/editor role, no public member, no authoritative or unknown IAM
 * resource, nothing project-wide unless it is conditioned, one of this configuration's custom roles
 * (Pub/Sub permissions only, no IAM administration), or listed in {@link PROJECT_LEVEL_ALLOWED}.
 */
export function leastPrivilegeViolations(config: TerraformJson): string[] {
  const violations: string[] = [];
  const custom = customRoles(config);
  for (const g of iamGrants(config)) {
    const at = `${g.address} (${g.role} for ${g.member})`;
    if (g.level === 'unknown') violations.push(`${at}: not a known additive *_iam_member resource`);
    if ((PRIMITIVE_ROLES as readonly string[]).includes(g.role)) violations.push(`${at}: a primitive role`);
    if (/admin|\.editor$|\.owner$/i.test(g.role)) violations.push(`${at}: an administrative role`);
    if ((PUBLIC_MEMBERS as readonly string[]).some((m) => g.member.includes(m)))
      violations.push(`${at}: a public member`);
    if (g.level === 'project') {
      const customPermissions = custom.get(g.role);
      if (customPermissions !== undefined) {
        for (const p of customPermissions)
          if (!p.startsWith('pubsub.') || /setIamPolicy|getIamPolicy/.test(p))
            violations.push(`${at}: custom role grants ${p}`);
      } else if (g.condition === undefined && PROJECT_LEVEL_ALLOWED[g.role] === undefined) {
        violations.push(`${at}: granted on the whole project without a condition`);
      }
    }
  }
  return violations;
}
