import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import {
  type AuthSecretStore,
  authSecretName,
  authSecretString,
  removeAuthSecret,
  secretsManagerStore,
  storeAuthSecret,
} from '../src/deploy/index.js';

/** Secrets Manager's behaviour the auth secret relies on: every create or put makes a new version. */
class MemorySecrets implements AuthSecretStore {
  readonly secrets = new Map<string, { value: string; versionId: string }>();
  readonly calls: string[] = [];
  private versions = 0;

  async read(name: string) {
    this.calls.push(`read ${name}`);
    return this.secrets.get(name);
  }
  async create(name: string, value: string) {
    this.calls.push(`create ${name}`);
    if (this.secrets.has(name)) throw new Error(`${name} exists`);
    return this.version(name, value);
  }
  async put(name: string, value: string) {
    this.calls.push(`put ${name}`);
    if (!this.secrets.has(name)) throw new Error(`${name} does not exist`);
    return this.version(name, value);
  }
  async remove(name: string) {
    this.calls.push(`remove ${name}`);
    this.secrets.delete(name);
  }
  private version(name: string, value: string) {
    const versionId = `v${++this.versions}`;
    this.secrets.set(name, { value, versionId });
    return versionId;
  }
}

const DIGEST = 'super:ZHWAqh4RHhCKN+pzlmj1IpJbEM4=';
const KEY = 'gateway-key-7f3a9c1e5b2d4068';

describe('the deployment auth secret', () => {
  it('is named after the deployment and holds the set values as JSON fields', async () => {
    const store = new MemorySecrets();
    const ref = await storeAuthSecret(store, 'prod', { superDigest: DIGEST, gatewayKey: KEY });
    expect(authSecretName('prod')).toBe('faaskeeper-prod-auth');
    expect(ref).toEqual({ fields: ['superDigest', 'gatewayKey'], versionId: 'v1' });
    expect(JSON.parse(store.secrets.get('faaskeeper-prod-auth')!.value)).toEqual({
      superDigest: DIGEST,
      gatewayKey: KEY,
    });
  });

  it('keeps its version when a deploy stores the same values, so the template and functions stay unchanged', async () => {
    const store = new MemorySecrets();
    await storeAuthSecret(store, 'prod', { gatewayKey: KEY });
    const again = await storeAuthSecret(store, 'prod', { gatewayKey: KEY });
    expect(again).toEqual({ fields: ['gatewayKey'], versionId: 'v1' });
    expect(store.calls.filter((c) => c.startsWith('put'))).toEqual([]);
  });

  it('gets a new version when the key changes, which changes the reference in the template', async () => {
    const store = new MemorySecrets();
    await storeAuthSecret(store, 'prod', { gatewayKey: KEY });
    const rotated = await storeAuthSecret(store, 'prod', { gatewayKey: `${KEY}-rotated` });
    expect(rotated).toEqual({ fields: ['gatewayKey'], versionId: 'v2' });
    expect(JSON.parse(store.secrets.get('faaskeeper-prod-auth')!.value)).toEqual({
      gatewayKey: `${KEY}-rotated`,
    });
  });

  it('drops a value left out of a later deploy, and the reference names only the fields it holds', async () => {
    const store = new MemorySecrets();
    await storeAuthSecret(store, 'prod', { superDigest: DIGEST, gatewayKey: KEY });
    const ref = await storeAuthSecret(store, 'prod', { superDigest: DIGEST });
    expect(ref).toEqual({ fields: ['superDigest'], versionId: 'v2' });
    expect(store.secrets.get('faaskeeper-prod-auth')!.value).toBe(authSecretString({ superDigest: DIGEST }));
  });

  it('is neither created nor referred to without values, and removing it is idempotent', async () => {
    const store = new MemorySecrets();
    expect(await storeAuthSecret(store, 'dev', {})).toBeUndefined();
    expect(store.calls).toEqual([]);
    await storeAuthSecret(store, 'dev', { gatewayKey: KEY });
    await removeAuthSecret(store, 'dev');
    await removeAuthSecret(store, 'dev');
    expect(store.secrets.size).toBe(0);
  });

  it('serializes the fields in a fixed order, so equal values compare equal whatever order they were given in', () => {
    expect(authSecretString({ gatewayKey: KEY, superDigest: DIGEST })).toBe(
      authSecretString({ superDigest: DIGEST, gatewayKey: KEY }),
    );
  });
});

/**
 * Secrets Manager's JSON protocol (X-Amz-Target `secretsmanager.<Operation>`) for the operations the
 * auth secret uses, with its error types, so that the SDK adapter runs against real HTTP.
 */
function secretsManagerServer() {
  const secrets = new Map<string, { value: string; versionId: string; deleted: boolean }>();
  const operations: string[] = [];
  let versions = 0;
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      const operation = String(request.headers['x-amz-target']).replace('secretsmanager.', '');
      operations.push(operation);
      const input = JSON.parse(body) as Record<string, unknown>;
      const id = String(input.SecretId ?? input.Name);
      const secret = secrets.get(id);
      const send = (status: number, out: unknown, errorType?: string) => {
        response.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
        });
        response.end(JSON.stringify(errorType === undefined ? out : { __type: errorType, message: out }));
      };
      const notFound = () =>
        send(400, "Secrets Manager can't find the specified secret.", 'ResourceNotFoundException');
      const version = (value: string) => {
        const versionId = `00000000-0000-4000-8000-${String(++versions).padStart(12, '0')}`;
        secrets.set(id, { value, versionId, deleted: false });
        return {
          ARN: `arn:aws:secretsmanager:eu-west-1:1:secret:${id}-AbCdEf`,
          Name: id,
          VersionId: versionId,
        };
      };
      if (operation === 'GetSecretValue') {
        if (secret === undefined) return notFound();
        if (secret.deleted)
          return send(
            400,
            "You can't perform this operation on the secret because it was marked for deletion.",
            'InvalidRequestException',
          );
        return send(200, { Name: id, SecretString: secret.value, VersionId: secret.versionId });
      }
      if (operation === 'CreateSecret') {
        if (secret !== undefined) return send(400, 'exists', 'ResourceExistsException');
        return send(200, version(String(input.SecretString)));
      }
      if (operation === 'PutSecretValue') {
        if (secret === undefined) return notFound();
        return send(200, version(String(input.SecretString)));
      }
      if (operation === 'RestoreSecret') {
        if (secret === undefined) return notFound();
        secret.deleted = false;
        return send(200, { Name: id });
      }
      if (operation === 'DeleteSecret') {
        if (secret === undefined) return notFound();
        if (input.ForceDeleteWithoutRecovery === true) secrets.delete(id);
        else secret.deleted = true;
        return send(200, { Name: id });
      }
      send(400, `unknown operation ${operation}`, 'InvalidRequestException');
    });
  });
  return { server, secrets, operations };
}

describe('the auth secret on Secrets Manager (the SDK adapter, against its JSON protocol on 127.0.0.1)', () => {
  it('creates, keeps, updates, restores a secret marked for deletion, and deletes at once', async () => {
    const fake = secretsManagerServer();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    const { port } = fake.server.address() as AddressInfo;
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    const store = await secretsManagerStore({ region: 'eu-west-1', endpoint: `http://127.0.0.1:${port}` });
    try {
      const first = await storeAuthSecret(store, 'prod', { gatewayKey: KEY });
      expect(first?.versionId).toMatch(/^00000000-/);
      expect(await storeAuthSecret(store, 'prod', { gatewayKey: KEY })).toEqual(first);
      const second = await storeAuthSecret(store, 'prod', { gatewayKey: `${KEY}-2`, superDigest: DIGEST });
      expect(second?.versionId).not.toBe(first?.versionId);
      expect(fake.operations).toEqual([
        'GetSecretValue',
        'CreateSecret',
        'GetSecretValue',
        'GetSecretValue',
        'PutSecretValue',
      ]);
      // A secret deleted by hand with a recovery window keeps its name: restored, then updated.
      fake.secrets.get('faaskeeper-prod-auth')!.deleted = true;
      const third = await storeAuthSecret(store, 'prod', { gatewayKey: KEY });
      expect(third?.versionId).not.toBe(second?.versionId);
      expect(fake.operations.slice(5)).toEqual([
        'GetSecretValue',
        'RestoreSecret',
        'GetSecretValue',
        'PutSecretValue',
      ]);
      await removeAuthSecret(store, 'prod');
      expect(fake.secrets.has('faaskeeper-prod-auth')).toBe(false);
      // Nothing to delete is no error (a deployment that never had auth values).
      await removeAuthSecret(store, 'prod');
    } finally {
      store.close();
      vi.unstubAllEnvs();
      await new Promise((resolve) => fake.server.close(resolve));
    }
  });
});
