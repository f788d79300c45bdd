import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

describe('distributed-lock example', () => {
  it('counts every increment and never lets two workers in at once', async () => {
    const result = await main(3, 5);
    expect(result.counter).toBe(15);
    expect(result.maxConcurrent).toBe(1);
    expect(result.order).toHaveLength(15);
  });
});
