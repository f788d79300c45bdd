import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

describe('leader-election example', () => {
  it('hands leadership down the line, one leader at a time', async () => {
    const result = await main(3);
    expect(result.leaders).toEqual(['candidate-0', 'candidate-1', 'candidate-2']);
    expect(result.maxLeaders).toBe(1);
    expect(result.work).toEqual(['candidate-0: round 1', 'candidate-1: round 2', 'candidate-2: round 3']);
  });
});
