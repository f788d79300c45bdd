// `tagged` must be `v.variant` with a faster lookup: the same outcome, output and first issue for
// any input. Compared on every union of the protocol over random inputs (fixed seed).
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { channelBody, distributorItem } from '../../src/protocol/batches.js';
import { MultiOpRequestSchema, RequestOpSchema } from '../../src/protocol/requests.js';
import { nodeWrite, opResult, replyResult } from '../../src/protocol/results.js';

/** A union as `tagged` and `v.variant` both take it. */
type Union = v.VariantSchema<string, v.VariantOptions<string>, v.ErrorMessage<v.VariantIssue> | undefined>;

// Each union seen through the loose type both functions accept, to build its variant twin.
const unions = {
  RequestOpSchema,
  MultiOpRequestSchema,
  distributorItem,
  channelBody,
  replyResult,
  opResult,
  nodeWrite,
};

/** What a parse tells a caller: success, output, and the first issue's message and path keys. */
function outcome(schema: v.GenericSchema, input: unknown) {
  const r = v.safeParse(schema, input, { abortEarly: true });
  return r.success
    ? { ok: true, output: r.output }
    : { ok: false, message: r.issues[0].message, at: r.issues[0].path?.map((p) => p.key) };
}

describe('tagged unions', () => {
  for (const [name, union] of Object.entries(unions)) {
    const schema = union as unknown as Union;
    it(`${name} answers exactly as valibot's variant for any input`, () => {
      const variant = v.variant(schema.key, schema.options, schema.message);
      // Every option of the protocol's unions is an object schema (or a pipe on one).
      const tags = schema.options.map(
        (o) =>
          (o as unknown as { entries: Record<string, { literal: unknown }> }).entries[schema.key]?.literal,
      );
      const value = fc.oneof(
        fc.anything({ maxDepth: 2 }),
        fc.constant(new Uint8Array([1, 2])),
        fc.integer(),
        fc.constantFrom('/a', '/a/b', 'PERSISTENT', 'data'),
      );
      const keys = fc.constantFrom('path', 'data', 'version', 'stat', 'mode', 'zxid', 'seq', 'session', 'x');
      const input = fc.oneof(
        fc.anything({ maxDepth: 2 }),
        fc
          .tuple(fc.oneof(fc.constantFrom(...tags), value), fc.dictionary(keys, value, { maxKeys: 6 }))
          .map(([tag, rest]) => ({ ...rest, [schema.key]: tag })),
      );
      fc.assert(
        fc.property(input, (x) => {
          expect(outcome(schema, x)).toEqual(outcome(variant, x));
        }),
        { seed: 42, numRuns: 2000 },
      );
    });
  }
});
