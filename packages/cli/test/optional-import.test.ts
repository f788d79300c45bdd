import { describe, expect, it } from 'vitest';
import { importOptional, MissingPackageError } from '../src/optional-import.js';

describe('optional provider packages', () => {
  it('names what to install when a command needs a package that is missing', async () => {
    const load = () => import(['@faaskeeper', 'no-such-package'].join('/'));
    const error = await importOptional(load, 'faaskeeper deploy aws', '@faaskeeper/aws').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MissingPackageError);
    expect((error as Error).message).toBe(
      'faaskeeper deploy aws needs packages that are not installed: npm install @faaskeeper/aws',
    );
  });

  it('passes other load errors through unchanged', async () => {
    const boom = new TypeError('bad module body');
    await expect(importOptional(() => Promise.reject(boom), 'x', 'y')).rejects.toBe(boom);
  });

  it('returns the module when it is installed', async () => {
    const mod = await importOptional(() => import('@faaskeeper/core'), 'x', 'y');
    expect(typeof mod.createEmbeddedService).toBe('function');
  });
});
