// A permission scan over every IAM grant of the Terraform configuration: least privilege as a test.
// Each principal has exactly the grants listed here (anything added or widened fails), none is
// primitive, administrative or public, and the scan itself is shown to fail on broadened grants.
import { describe, expect, it } from 'vitest';
import {
  CHANNEL_PERMISSIONS,
  customRoles,
  type IamGrant,
  iamGrants,
  leastPrivilegeViolations,
  type TerraformJson,
} from '../src/deploy/index.js';
import { configuration } from './deploy-support.js';

const DB = 'resource.name == "projects/acme-zk/databases/fk-prod"';

/** Who a member is, in short: a service account's resource name, or the Pub/Sub service agent. */
function principal(member: string): string {
  const sa = /^serviceAccount:\$\{google_service_account\.([a-z_]+)\.email\}$/.exec(member);
  if (sa) return sa[1] as string;
  if (/^serviceAccount:service-\$\{data\.google_project\.this\.number\}@gcp-sa-pubsub/.test(member))
    return 'pubsub-agent';
  return member;
}

/** `level target role [if condition]`, with Terraform references shortened to `type.name`. */
function describeGrant(g: IamGrant): string {
  const short = (s: string) => s.replace(/^\$\{(?:google_)?([a-z0-9_]+\.[a-z0-9_]+)\.[a-z_]+\}$/, '$1');
  return `${g.level} ${short(g.target)} ${short(g.role)}${g.condition === undefined ? '' : ` if ${g.condition}`}`;
}

/** Every principal's grants, sorted. */
function grantTable(config: TerraformJson): Record<string, string[]> {
  const table: Record<string, string[]> = {};
  for (const g of iamGrants(config)) {
    const who = principal(g.member);
    table[who] = [...(table[who] ?? []), describeGrant(g)];
  }
  for (const list of Object.values(table)) list.sort();
  return table;
}

/** The deployment's permission model (docs/providers/gcp.md shows the same table). */
const EXPECTED: Record<string, string[]> = {
  // The writer distributes inline (docs/cost.md): it writes records and sends on channels as the
  // distributor does.
  writer: [
    'bucket storage_bucket.data roles/storage.objectUser',
    'bucket storage_bucket.data_protected roles/storage.objectUser',
    'project acme-zk project_iam_custom_role.channel_distributor',
    `project acme-zk roles/datastore.user if ${DB}`,
    'topic pubsub_topic.distributor roles/pubsub.publisher',
  ],
  distributor: [
    'bucket storage_bucket.data roles/storage.objectUser',
    'bucket storage_bucket.data_protected roles/storage.objectUser',
    'project acme-zk project_iam_custom_role.channel_distributor',
    `project acme-zk roles/datastore.user if ${DB}`,
  ],
  heartbeat: [
    'bucket storage_bucket.data roles/storage.objectViewer',
    'project acme-zk project_iam_custom_role.channel_heartbeat',
    `project acme-zk roles/datastore.user if ${DB}`,
    'subscription pubsub_subscription.leases roles/pubsub.subscriber',
    'topic pubsub_topic.writer roles/pubsub.publisher',
  ],
  client: [
    'bucket storage_bucket.data roles/storage.objectViewer',
    'project acme-zk project_iam_custom_role.channel_client',
    'topic pubsub_topic.leases roles/pubsub.publisher',
    'topic pubsub_topic.writer roles/pubsub.publisher',
  ],
  push_invoker: [
    'run-service cloudfunctions2_function.distributor roles/run.invoker',
    'run-service cloudfunctions2_function.writer roles/run.invoker',
  ],
  scheduler_invoker: ['run-service cloudfunctions2_function.heartbeat roles/run.invoker'],
  build: [
    'bucket storage_bucket.sources roles/storage.objectViewer',
    'project acme-zk roles/logging.logWriter',
    'repository artifact_registry_repository.functions roles/artifactregistry.writer',
  ],
  'pubsub-agent': [
    'service-account service_account.push_invoker roles/iam.serviceAccountTokenCreator',
    'subscription pubsub_subscription.distributor_push roles/pubsub.subscriber',
    'subscription pubsub_subscription.writer_push roles/pubsub.subscriber',
    'topic pubsub_topic.distributor_dead roles/pubsub.publisher',
    'topic pubsub_topic.writer_dead roles/pubsub.publisher',
  ],
};

/**
 * With the Datastore user store: no data bucket, so no bucket grants; the client reads node records
 * from the deployment database (read-only, conditioned on it); the distributor and the writer
 * (distributing inline) write them with the Datastore role they already have; the heartbeat reads
 * the root record with its own.
 */
const EXPECTED_DATASTORE: Record<string, string[]> = {
  ...EXPECTED,
  // The protected zone is a bucket there too: Datastore IAM cannot keep clients off some kinds.
  writer: [
    'bucket storage_bucket.data_protected roles/storage.objectUser',
    'project acme-zk project_iam_custom_role.channel_distributor',
    `project acme-zk roles/datastore.user if ${DB}`,
    'topic pubsub_topic.distributor roles/pubsub.publisher',
  ],
  distributor: [
    'bucket storage_bucket.data_protected roles/storage.objectUser',
    'project acme-zk project_iam_custom_role.channel_distributor',
    `project acme-zk roles/datastore.user if ${DB}`,
  ],
  heartbeat: [
    'project acme-zk project_iam_custom_role.channel_heartbeat',
    `project acme-zk roles/datastore.user if ${DB}`,
    'subscription pubsub_subscription.leases roles/pubsub.subscriber',
    'topic pubsub_topic.writer roles/pubsub.publisher',
  ],
  client: [
    'project acme-zk project_iam_custom_role.channel_client',
    `project acme-zk roles/datastore.viewer if ${DB}`,
    'topic pubsub_topic.leases roles/pubsub.publisher',
    'topic pubsub_topic.writer roles/pubsub.publisher',
  ],
};

/** Each user store's configuration and its exact grant table. */
const MODELS = [
  { userStore: 'gcs', expected: EXPECTED, datastoreGrants: 3 },
  { userStore: 'datastore', expected: EXPECTED_DATASTORE, datastoreGrants: 4 },
] as const;

/** A copy of the configuration with one more grant. */
function withGrant(config: TerraformJson, type: string, body: Record<string, unknown>): TerraformJson {
  const copy = structuredClone(config) as TerraformJson;
  copy.resource[type] = { ...copy.resource[type], broadened: body as never };
  return copy;
}

describe.each(MODELS)(
  'the permission model with the $userStore user store',
  ({ userStore, expected, datastoreGrants }) => {
    const config = configuration({ userStore });

    it('grants each principal exactly its own resources, nothing else', () => {
      expect(grantTable(config)).toEqual(expected);
    });

    it('has no primitive, administrative or public grant, and nothing project-wide beyond the documented exceptions', () => {
      expect(leastPrivilegeViolations(config)).toEqual([]);
      for (const g of iamGrants(config)) {
        expect(g.role).not.toMatch(/^roles\/(owner|editor|viewer)$/);
        expect(g.member).not.toMatch(/allUsers|allAuthenticatedUsers/);
      }
    });

    it('binds only additive *_iam_member resources, so that it never overwrites grants it does not own', () => {
      const types = Object.keys(config.resource).filter(
        (t) => t.includes('_iam_') && !t.endsWith('_custom_role'),
      );
      for (const t of types) expect(t).toMatch(/_iam_member$/);
    });

    it('narrows every Datastore role to the deployment database with an IAM condition', () => {
      const datastore = iamGrants(config).filter((g) => g.role.startsWith('roles/datastore.'));
      expect(datastore).toHaveLength(datastoreGrants);
      for (const g of datastore) expect(g.condition).toBe(DB);
    });

    it('gives the channel roles only Pub/Sub permissions, none of IAM, and the client no publish on channels', () => {
      const roles = [...customRoles(config).values()];
      expect(roles).toEqual([
        [...CHANNEL_PERMISSIONS.client],
        [...CHANNEL_PERMISSIONS.distributor],
        [...CHANNEL_PERMISSIONS.reaper],
      ]);
      for (const p of roles.flat()) expect(p).toMatch(/^pubsub\.(topics|subscriptions)\.[a-zA-Z]+$/);
      expect(roles.flat().some((p) => /IamPolicy/.test(p))).toBe(false);
    });

    it("gives clients no listing of topics or subscriptions: another session's secret channel is reached only by a name it cannot learn", () => {
      const clientRoles = iamGrants(config)
        .filter((g) => principal(g.member) === 'client' && g.role.startsWith('roles/pubsub.'))
        .map((g) => g.role);
      // Publishing to the writer topic (and the lease topic) only: no predefined role that lists.
      expect([...new Set(clientRoles)]).toEqual(['roles/pubsub.publisher']);
      const [client] = [...customRoles(config).values()];
      expect(client).toEqual([...CHANNEL_PERMISSIONS.client]);
      expect(client!.filter((p) => /\.list/.test(p))).toEqual([]);
    });

    it('lets clients only consume channel subscriptions: no creating or attaching a subscription (to the writer, distributor or lease topic) and no deleting one', () => {
      const [client, distributor] = [...customRoles(config).values()];
      // Project-wide (Pub/Sub evaluates no conditions on names): a create or attach would reach
      // the writer topic, and with it every request's session key and data.
      expect(client).toEqual(['pubsub.subscriptions.consume']);
      for (const p of [
        'pubsub.topics.attachSubscription',
        'pubsub.subscriptions.create',
        'pubsub.topics.create',
      ])
        expect(client).not.toContain(p);
      expect(client!.filter((p) => /\.(delete|update|publish|get)$/.test(p))).toEqual([]);
      // The channels are the functions' to make (before the first message) and to end.
      expect(distributor).toEqual(
        expect.arrayContaining([
          'pubsub.subscriptions.create',
          'pubsub.subscriptions.delete',
          'pubsub.topics.attachSubscription',
          'pubsub.topics.create',
          'pubsub.topics.delete',
          'pubsub.topics.publish',
        ]),
      );
    });

    it('grants impersonation of the client account only to the principals named, on that account only', () => {
      const withImpersonator = configuration({ userStore, clientImpersonators: ['user:ops@example.com'] });
      const grants = iamGrants(withImpersonator).filter((g) => g.member === 'user:ops@example.com');
      expect(grants.map(describeGrant)).toEqual([
        'service-account service_account.client roles/iam.serviceAccountTokenCreator',
      ]);
      expect(leastPrivilegeViolations(withImpersonator)).toEqual([]);
    });
  },
);

describe.each(MODELS)('the permission scan with the $userStore user store', ({ userStore, expected }) => {
  const config = configuration({ userStore });
  const writer = `serviceAccount:\${google_service_account.writer.email}`;

  it('fails on a primitive role', () => {
    const broadened = withGrant(config, 'google_project_iam_member', {
      project: 'acme-zk',
      role: 'roles/editor',
      member: writer,
    });
    expect(leastPrivilegeViolations(broadened).join('\n')).toMatch(/primitive role/);
    expect(grantTable(broadened)).not.toEqual(expected);
  });

  it('fails on project-wide Pub/Sub or Storage administration', () => {
    for (const role of [
      'roles/pubsub.admin',
      'roles/pubsub.editor',
      'roles/storage.admin',
      'roles/storage.objectAdmin',
    ]) {
      const broadened = withGrant(config, 'google_project_iam_member', {
        project: 'acme-zk',
        role,
        member: writer,
      });
      expect(leastPrivilegeViolations(broadened).join('\n'), role).toMatch(/administrative role/);
    }
  });

  it('fails on a public member', () => {
    const broadened = withGrant(config, 'google_cloud_run_service_iam_member', {
      service: `\${google_cloudfunctions2_function.writer.name}`,
      role: 'roles/run.invoker',
      member: 'allUsers',
    });
    expect(leastPrivilegeViolations(broadened).join('\n')).toMatch(/public member/);
  });

  it('fails on a Datastore role without its database condition', () => {
    const broadened = structuredClone(config) as TerraformJson;
    const grant = broadened.resource.google_project_iam_member?.writer_datastore as Record<string, unknown>;
    delete grant.condition;
    expect(leastPrivilegeViolations(broadened).join('\n')).toMatch(/whole project without a condition/);
  });

  it("fails, through the exact table, on the client's Datastore role widened to write", () => {
    // Conditioned on the database it breaks no general rule, but clients must only read.
    const broadened = withGrant(config, 'google_project_iam_member', {
      project: 'acme-zk',
      role: 'roles/datastore.user',
      member: `serviceAccount:\${google_service_account.client.email}`,
      condition: { expression: DB },
    });
    expect(leastPrivilegeViolations(broadened)).toEqual([]);
    expect(grantTable(broadened)).not.toEqual(expected);
  });

  it('fails on a channel role that can change IAM policies or reach beyond Pub/Sub', () => {
    const broadened = structuredClone(config) as TerraformJson;
    const role = broadened.resource.google_project_iam_custom_role?.channel_client as {
      permissions: string[];
    };
    role.permissions = [...role.permissions, 'pubsub.topics.setIamPolicy', 'storage.objects.delete'];
    const violations = leastPrivilegeViolations(broadened).join('\n');
    expect(violations).toMatch(/pubsub\.topics\.setIamPolicy/);
    expect(violations).toMatch(/storage\.objects\.delete/);
  });

  it('fails on an authoritative binding', () => {
    const broadened = withGrant(config, 'google_pubsub_topic_iam_binding', {
      topic: `\${google_pubsub_topic.writer.name}`,
      role: 'roles/pubsub.publisher',
      members: [writer],
    });
    expect(leastPrivilegeViolations(broadened).join('\n')).toMatch(/not a known additive/);
  });

  it("fails, through the exact table, on a grant that is narrow but not the principal's own", () => {
    // The heartbeat publishing to the distributor topic breaks no general rule, but is not its resource.
    const broadened = withGrant(config, 'google_pubsub_topic_iam_member', {
      topic: `\${google_pubsub_topic.distributor.name}`,
      role: 'roles/pubsub.publisher',
      member: `serviceAccount:\${google_service_account.heartbeat.email}`,
    });
    expect(leastPrivilegeViolations(broadened)).toEqual([]);
    expect(grantTable(broadened)).not.toEqual(expected);
    expect(grantTable(broadened).heartbeat).toContain(
      'topic pubsub_topic.distributor roles/pubsub.publisher',
    );
  });
});
