import { describe, expect, it } from 'vitest';
import {
  type AuthSecretStore,
  authSecretName,
  authSecretString,
  removeAuthSecret,
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
