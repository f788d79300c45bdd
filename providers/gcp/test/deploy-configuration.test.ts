// The Terraform configuration `faaskeeper synth gcp` writes, checked offline for structure: every
// resource present with the settings that keep FaaSKeeper's guarantees on GCP (ordered push
// delivery, dead letters, OIDC-authenticated invocation, the heartbeat schedule), and names that
// agree with what the functions and clients use.
import { noMeter } from '@faaskeeper/core';
import { Datastore, type DatastoreOptions } from '@google-cloud/datastore';
import { getFunction } from '@google-cloud/functions-framework/testing';
import { describe, expect, it } from 'vitest';
import {
  CHANNEL_PERMISSIONS,
  deployedFunctionConfig,
  GCP_FUNCTION_NAMES,
  GOOGLE_PROVIDER_VERSION,
  gcpClientConfigFromOutputs,
  gcpDeploymentNames,
  RANDOM_PROVIDER_VERSION,
  REQUIRED_APIS,
  TERRAFORM_OUTPUTS,
} from '../src/deploy/index.js';
import { registerGcpFunctions } from '../src/functions/index.js';
import {
  DatastoreUserStore,
  GcsUserStore,
  resourceNames,
  subscriptionNames,
  userStoreOf,
} from '../src/index.js';
import { configuration, resourceOf } from './deploy-support.js';

const config = configuration();
const functionRef = (fn: string) => `\${google_cloudfunctions2_function.${fn}.service_config[0].uri}`;
const saEmail = (name: string) => `\${google_service_account.${name}.email}`;

describe('the Terraform configuration', () => {
  it('pins the google and random providers and the Terraform version', () => {
    expect(config.terraform).toMatchObject({
      required_version: '>= 1.5.0',
      required_providers: {
        google: { source: 'hashicorp/google', version: GOOGLE_PROVIDER_VERSION },
        random: { source: 'hashicorp/random', version: RANDOM_PROVIDER_VERSION },
      },
    });
    expect(GOOGLE_PROVIDER_VERSION).toMatch(/^~> \d+\.\d+$/);
    expect(config.provider.google).toEqual({ project: 'acme-zk', region: 'europe-west1' });
  });

  it('enables every API the deployment uses and leaves them enabled on destroy', () => {
    const services = Object.values(config.resource.google_project_service ?? {});
    expect(services.map((s) => s.service).sort()).toEqual([...REQUIRED_APIS].sort());
    for (const s of services) expect(s.disable_on_destroy).toBe(false);
  });

  it('refers only to resources, data sources and outputs that it defines', () => {
    const defined = new Set<string>();
    for (const [type, group] of Object.entries(config.resource))
      for (const name of Object.keys(group)) defined.add(`${type}.${name}`);
    for (const [type, group] of Object.entries(config.data))
      for (const name of Object.keys(group)) defined.add(`data.${type}.${name}`);
    const text = JSON.stringify(config);
    const refs = [...text.matchAll(/\$\{((?:data\.)?[a-z0-9_]+\.[a-z0-9_]+)[.}[]/g)].map(
      (m) => m[1] as string,
    );
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of refs) if (!ref.startsWith('path.')) expect(defined, ref).toContain(ref);
    for (const group of Object.values(config.resource))
      for (const body of Object.values(group))
        for (const dep of (body.depends_on as string[] | undefined) ?? [])
          expect(defined, dep).toContain(dep);
  });

  it('creates a dedicated Firestore database in Datastore mode that a destroy abandons (keeps)', () => {
    const db = resourceOf(config, 'google_firestore_database', 'system');
    expect(db).toMatchObject({
      name: 'fk-prod',
      type: 'DATASTORE_MODE',
      location_id: 'europe-west1',
      deletion_policy: 'ABANDON',
      delete_protection_state: 'DELETE_PROTECTION_ENABLED',
    });
    const unprotected = resourceOf(
      configuration({ protectData: false }),
      'google_firestore_database',
      'system',
    );
    expect(unprotected).toMatchObject({
      deletion_policy: 'DELETE',
      delete_protection_state: 'DELETE_PROTECTION_DISABLED',
    });
  });

  it('uses an existing database when told to, and conditions the Datastore roles on it', () => {
    const existing = configuration({ database: { existing: '(default)' } });
    expect(existing.resource.google_firestore_database).toBeUndefined();
    expect(resourceOf(existing, 'google_project_iam_member', 'writer_datastore').condition.expression).toBe(
      'resource.name == "projects/acme-zk/databases/(default)"',
    );
    expect(
      resourceOf(existing, 'google_cloudfunctions2_function', 'writer').service_config.environment_variables,
    ).toMatchObject({ FAASKEEPER_DATABASE: '(default)' });
  });

  it('keeps the user-store bucket private and protected from destroy; the sources bucket is disposable', () => {
    const data = resourceOf(config, 'google_storage_bucket', 'data');
    expect(data).toMatchObject({
      name: 'acme-zk-fk-prod-data',
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
      force_destroy: false,
      lifecycle: { prevent_destroy: true },
    });
    const sources = resourceOf(config, 'google_storage_bucket', 'sources');
    expect(sources).toMatchObject({
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
      force_destroy: true,
    });
    expect(sources.lifecycle).toBeUndefined();
    const unprotected = resourceOf(configuration({ protectData: false }), 'google_storage_bucket', 'data');
    expect(unprotected.force_destroy).toBe(true);
    expect(unprotected.lifecycle).toBeUndefined();
  });

  it('invokes writer and distributor through ordered push subscriptions with OIDC, dead letters and back-off', () => {
    const names = gcpDeploymentNames('prod', 'acme-zk');
    for (const fn of ['writer', 'distributor'] as const) {
      const sub = resourceOf(config, 'google_pubsub_subscription', `${fn}_push`);
      expect(sub).toMatchObject({
        name: fn === 'writer' ? names.writerPushSubscription : names.distributorPushSubscription,
        topic: `\${google_pubsub_topic.${fn}.id}`,
        enable_message_ordering: true,
        expiration_policy: { ttl: '' },
        retry_policy: { minimum_backoff: '1s', maximum_backoff: '10s' },
        dead_letter_policy: {
          dead_letter_topic: `\${google_pubsub_topic.${fn}_dead.id}`,
          max_delivery_attempts: 100,
        },
        push_config: {
          push_endpoint: functionRef(fn),
          oidc_token: { service_account_email: saEmail('push_invoker'), audience: functionRef(fn) },
        },
      });
      // Longer than the function may run, so a running invocation is not pushed again.
      expect(sub.ack_deadline_seconds).toBeGreaterThan(
        resourceOf(config, 'google_cloudfunctions2_function', fn).service_config.timeout_seconds,
      );
      expect(sub.push_config.no_wrapper).toBeUndefined(); // the handlers read the wrapped push envelope
      // A topic without a subscription drops messages: each dead-letter topic has one.
      const dead = resourceOf(config, 'google_pubsub_subscription', `${fn}_dead`);
      expect(dead.topic).toBe(`\${google_pubsub_topic.${fn}_dead.id}`);
      expect(dead.expiration_policy).toEqual({ ttl: '' });
    }
    expect(resourceOf(config, 'google_pubsub_topic', 'writer').name).toBe(resourceNames('prod').writerTopic);
    expect(resourceOf(config, 'google_pubsub_topic', 'distributor').name).toBe(
      resourceNames('prod').distributorTopic,
    );
  });

  it('runs each function (gen2, Node.js) as its own service account, one instance, reachable only internally', () => {
    for (const fn of GCP_FUNCTION_NAMES) {
      const f = resourceOf(config, 'google_cloudfunctions2_function', fn);
      expect(f.build_config).toMatchObject({
        runtime: 'nodejs22',
        entry_point: fn,
        service_account: `\${google_service_account.build.id}`,
        docker_repository: `\${google_artifact_registry_repository.functions.id}`,
        source: {
          storage_source: {
            bucket: `\${google_storage_bucket.sources.name}`,
            object: `\${google_storage_bucket_object.source_${fn}.name}`,
          },
        },
      });
      expect(f.service_config).toMatchObject({
        max_instance_count: 1,
        max_instance_request_concurrency: 1,
        ingress_settings: 'ALLOW_INTERNAL_ONLY',
        service_account_email: saEmail(fn),
      });
      // The source object's name carries the zip's hash: new code, new object, a redeploy.
      const object = resourceOf(config, 'google_storage_bucket_object', `source_${fn}`);
      expect(object.name).toMatch(new RegExp(`^${fn}-[0-9a-f]+\\.zip$`));
    }
  });

  it('opens the network path only when told to; the invoker roles still decide who may call', () => {
    const open = configuration({ functionIngress: 'ALLOW_ALL' });
    for (const fn of GCP_FUNCTION_NAMES)
      expect(resourceOf(open, 'google_cloudfunctions2_function', fn).service_config.ingress_settings).toBe(
        'ALLOW_ALL',
      );
    expect(open.resource.google_cloud_run_service_iam_member).toEqual(
      config.resource.google_cloud_run_service_iam_member,
    );
  });

  it('generates the channel secret once (kept in the state) and hands it, the super digest and the gateway key (sensitive variables) to the writer and distributor only', () => {
    expect(config.resource.random_password?.channel_secret).toEqual({ length: 48, special: false });
    expect(config.variable).toBeUndefined();
    const keyed = configuration({ authVariables: ['superDigest', 'gatewayKey'] });
    for (const name of ['super_digest', 'gateway_key'])
      expect(keyed.variable?.[name], name).toMatchObject({
        type: 'string',
        sensitive: true,
        nullable: false,
      });
    for (const fn of GCP_FUNCTION_NAMES) {
      const env = resourceOf(keyed, 'google_cloudfunctions2_function', fn).service_config
        .environment_variables;
      const secrets = {
        FAASKEEPER_CHANNEL_SECRET: `\${random_password.channel_secret.result}`,
        FAASKEEPER_SUPER_DIGEST: `\${var.super_digest}`,
        FAASKEEPER_GATEWAY_KEY: `\${var.gateway_key}`,
      };
      if (fn === 'heartbeat')
        for (const name of Object.keys(secrets)) expect(env[name], name).toBeUndefined();
      else expect(env).toMatchObject(secrets);
    }
    // Only the variables of the values set: Terraform refuses to apply with an unset one.
    const keyOnly = configuration({ authVariables: ['gatewayKey'] });
    expect(Object.keys(keyOnly.variable ?? {})).toEqual(['gateway_key']);
  });

  it('names entry points that the functions module registers with the functions framework', () => {
    registerGcpFunctions({ deployment: 'prod', datastore: { projectId: 'p' }, pubsub: { projectId: 'p' } });
    for (const fn of GCP_FUNCTION_NAMES) {
      const entry = resourceOf(config, 'google_cloudfunctions2_function', fn).build_config.entry_point;
      expect(typeof getFunction(entry), entry).toBe('function');
    }
  });

  it('gives the functions the environment their configuration is read from', () => {
    const env = resourceOf(config, 'google_cloudfunctions2_function', 'distributor').service_config
      .environment_variables;
    expect(env).toEqual({
      FAASKEEPER_DEPLOYMENT: 'prod',
      FAASKEEPER_USER_STORE: 'gcs',
      FAASKEEPER_BUCKET: `\${google_storage_bucket.data.name}`,
      FAASKEEPER_DATABASE: 'fk-prod',
      GOOGLE_CLOUD_PROJECT: 'acme-zk',
      FAASKEEPER_CHANNEL_SECRET: `\${random_password.channel_secret.result}`,
    });
    const read = deployedFunctionConfig({ ...env, FAASKEEPER_BUCKET: 'acme-zk-fk-prod-data' });
    expect(read).toMatchObject({
      deployment: 'prod',
      datastore: { projectId: 'acme-zk', databaseId: 'fk-prod' },
      pubsub: { projectId: 'acme-zk' },
      userStore: { type: 'gcs', bucket: 'acme-zk-fk-prod-data' },
      createTopics: false,
    });
    const store = userStoreOf(read, new Datastore(read.datastore as DatastoreOptions), noMeter);
    expect(store).toBeInstanceOf(GcsUserStore);
    expect((store as GcsUserStore).bucket.name).toBe('acme-zk-fk-prod-data');
  });

  it('with the Datastore user store: no data bucket, and the functions and clients open the deployment database', () => {
    const ds = configuration({ userStore: 'datastore' });
    expect(ds.resource.google_storage_bucket?.data).toBeUndefined();
    expect(ds.resource.google_storage_bucket?.sources).toBeDefined();
    expect(ds.resource.google_storage_bucket_iam_member?.distributor_data).toBeUndefined();
    for (const fn of GCP_FUNCTION_NAMES) {
      const env = resourceOf(ds, 'google_cloudfunctions2_function', fn).service_config.environment_variables;
      expect(env).toEqual({
        FAASKEEPER_DEPLOYMENT: 'prod',
        FAASKEEPER_USER_STORE: 'datastore',
        FAASKEEPER_DATABASE: 'fk-prod',
        GOOGLE_CLOUD_PROJECT: 'acme-zk',
        ...(fn === 'heartbeat'
          ? { FAASKEEPER_SUBSCRIPTION_SUFFIX: `\${random_id.subscription_suffix.hex}` }
          : {
              FAASKEEPER_CHANNEL_SECRET: `\${random_password.channel_secret.result}`,
              // The protected zone: a bucket only the distributing functions are granted.
              FAASKEEPER_PROTECTED_BUCKET: `\${google_storage_bucket.data_protected.name}`,
            }),
      });
      // The deployed function opens the Datastore user store on the deployment's database, with
      // its protected zone in that bucket (the heartbeat never reads it).
      const read = deployedFunctionConfig(env);
      expect(read.userStore).toEqual(
        fn === 'heartbeat'
          ? { type: 'datastore' }
          : {
              type: 'datastore',
              protectedBucket: {
                bucket: `\${google_storage_bucket.data_protected.name}`,
                storage: { projectId: 'acme-zk' },
              },
            },
      );
      const store = userStoreOf(read, new Datastore(read.datastore as DatastoreOptions), noMeter);
      expect(store).toBeInstanceOf(DatastoreUserStore);
      expect((store as DatastoreUserStore).datastore.options.databaseId).toBe('fk-prod');
    }
    expect(ds.resource.google_storage_bucket?.data_protected?.name).toBe('acme-zk-fk-prod-prot');
    expect(ds.output.user_store?.value).toBe('datastore');
    expect(ds.output.data_bucket).toBeUndefined();
    // The client configuration from these outputs opens the same store.
    const outputs = Object.fromEntries(
      Object.entries(ds.output).map(([k, o]) => [k, { value: String(o.value).replace(/^\$\{.*\}$/, 'x') }]),
    );
    const client = gcpClientConfigFromOutputs(outputs);
    expect(client.userStore).toEqual({ type: 'datastore' });
    const { provider: _provider, ...connectOptions } = client;
    const clientStore = userStoreOf(
      connectOptions,
      new Datastore(connectOptions.datastore as DatastoreOptions),
      noMeter,
    );
    expect(clientStore).toBeInstanceOf(DatastoreUserStore);
    expect((clientStore as DatastoreUserStore).datastore.options.databaseId).toBe('fk-prod');
  });

  it('refuses a function environment whose user store and bucket disagree, or an unknown store', () => {
    const env = { FAASKEEPER_DEPLOYMENT: 'prod', GOOGLE_CLOUD_PROJECT: 'acme-zk' };
    expect(() => deployedFunctionConfig({ ...env, FAASKEEPER_USER_STORE: 'gcs' })).toThrow(
      /FAASKEEPER_BUCKET is not set/,
    );
    expect(() =>
      deployedFunctionConfig({ ...env, FAASKEEPER_USER_STORE: 'datastore', FAASKEEPER_BUCKET: 'b' }),
    ).toThrow(/FAASKEEPER_BUCKET is set/);
    expect(() => deployedFunctionConfig({ ...env, FAASKEEPER_USER_STORE: 's3' })).toThrow(/gcs, datastore/);
    expect(() => configuration({ userStore: 's3' as never })).toThrow(
      /userStore must be one of gcs, datastore/,
    );
  });

  it('calls the heartbeat from Cloud Scheduler with an OIDC token of the scheduler account', () => {
    const job = resourceOf(config, 'google_cloud_scheduler_job', 'heartbeat');
    expect(job).toMatchObject({
      region: 'europe-west1',
      schedule: '* * * * *',
      http_target: {
        http_method: 'POST',
        uri: functionRef('heartbeat'),
        oidc_token: {
          service_account_email: saEmail('scheduler_invoker'),
          audience: functionRef('heartbeat'),
        },
      },
    });
    expect(
      configuration({ heartbeatSchedule: '*/5 * * * *' }).resource.google_cloud_scheduler_job?.heartbeat
        ?.schedule,
    ).toBe('*/5 * * * *');
  });

  it('defines a custom role per channel user with exactly the permissions the channel code calls', () => {
    expect(resourceOf(config, 'google_project_iam_custom_role', 'channel_client').permissions).toEqual([
      ...CHANNEL_PERMISSIONS.client,
    ]);
    expect(resourceOf(config, 'google_project_iam_custom_role', 'channel_distributor').permissions).toEqual([
      ...CHANNEL_PERMISSIONS.distributor,
    ]);
    // The heartbeat reaps what ended sessions left: it deletes, and nothing else.
    expect(resourceOf(config, 'google_project_iam_custom_role', 'channel_heartbeat').permissions).toEqual([
      'pubsub.subscriptions.delete',
      'pubsub.topics.delete',
    ]);
    // Clients never publish to channels: a client cannot forge another session's replies.
    expect(CHANNEL_PERMISSIONS.client).not.toContain('pubsub.topics.publish');
  });

  it('names every fixed subscription with a random 128-bit suffix kept in the state, which only the heartbeat is given and no client', () => {
    const suffixRef = `\${random_id.subscription_suffix.hex}`;
    // Generated once by Terraform and kept in the state: a later apply keeps the names.
    expect(config.resource.random_id?.subscription_suffix).toEqual({ byte_length: 16 });
    const subscriptions = Object.values(config.resource.google_pubsub_subscription ?? {}).map(
      (s) => (s as { name: string }).name,
    );
    expect(subscriptions).toHaveLength(5); // two push, two dead-letter, the lease pull
    for (const name of subscriptions) expect(name.endsWith(`-${suffixRef}`), name).toBe(true);
    // The names as applied fit Pub/Sub's rule, for the longest deployment name.
    const applied = gcpDeploymentNames('d2345678901234567890', 'p', 'f'.repeat(32));
    for (const name of [
      applied.writerPushSubscription,
      applied.distributorPushSubscription,
      applied.writerDeadLetterSubscription,
      applied.distributorDeadLetterSubscription,
      applied.leaseSubscription,
    ])
      expect(name).toMatch(/^(?!goog)[a-zA-Z][a-zA-Z0-9\-_.~+%]{2,254}$/);
    // The heartbeat (it pulls the lease subscription) gets the suffix; the other functions do not.
    for (const fn of GCP_FUNCTION_NAMES) {
      const env = resourceOf(config, 'google_cloudfunctions2_function', fn).service_config
        .environment_variables;
      expect(env.FAASKEEPER_SUBSCRIPTION_SUFFIX, fn).toBe(fn === 'heartbeat' ? suffixRef : undefined);
    }
    const heartbeatEnv = resourceOf(config, 'google_cloudfunctions2_function', 'heartbeat').service_config
      .environment_variables;
    const read = deployedFunctionConfig({ ...heartbeatEnv, FAASKEEPER_BUCKET: 'acme-zk-fk-prod-data' });
    expect(subscriptionNames('prod', read.subscriptionSuffix).lease).toBe(
      resourceOf(config, 'google_pubsub_subscription', 'leases').name,
    );
    // No output, hence no client configuration, holds the suffix or a subscription name.
    const outputs = JSON.stringify(config.output);
    expect(outputs).not.toContain('random_id');
    for (const name of subscriptions) expect(outputs).not.toContain(name);
    const client = gcpClientConfigFromOutputs(
      Object.fromEntries(Object.entries(config.output).map(([k, o]) => [k, { value: String(o.value) }])),
    );
    expect(client).not.toHaveProperty('subscriptionSuffix');
    expect(JSON.stringify(client)).not.toMatch(/random_id|-push|-dead-|-pull/);
  });

  it('outputs everything the client configuration is made of', () => {
    expect(Object.keys(config.output).sort()).toEqual(Object.values(TERRAFORM_OUTPUTS).sort());
    expect(config.output.user_store?.value).toBe('gcs');
    const ds = configuration({ userStore: 'datastore' });
    expect(Object.keys(ds.output).sort()).toEqual(
      Object.values(TERRAFORM_OUTPUTS)
        .filter((o) => o !== TERRAFORM_OUTPUTS.dataBucket)
        .sort(),
    );
  });

  it('derives names that fit GCP limits for the longest deployment and project names', () => {
    const project = 'a23456789012345678901234567890'; // 30, the longest project id
    const names = gcpDeploymentNames('d2345678901234567890', project);
    for (const id of Object.values(names.serviceAccountIds))
      expect(id).toMatch(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/);
    for (const bucket of [names.dataBucket, names.sourceBucket])
      expect(bucket.length).toBeLessThanOrEqual(63);
    for (const role of [names.channelClientRole, names.channelDistributorRole, names.channelReaperRole])
      expect(role).toMatch(/^[a-zA-Z0-9_.]{3,64}$/);
    expect(names.database).toMatch(/^[a-z][a-z0-9-]{2,61}[a-z0-9]$/);
    for (const fn of Object.values(names.functions)) expect(fn.length).toBeLessThanOrEqual(63);
    expect(() => gcpDeploymentNames('Bad_Name', project)).toThrow(/deployment name/);
    expect(() => gcpDeploymentNames('d23456789012345678901', project)).toThrow(/deployment name/);
  });
});
