import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';

describe('config-reload example', () => {
  it('applies every change the operator makes, in order', async () => {
    const result = await main();
    expect(result.reloads).toEqual([
      { 'log-level': 'info' },
      { 'log-level': 'debug' },
      { 'log-level': 'debug', 'max-connections': '100' },
      { 'max-connections': '100' },
    ]);
    expect(result.final).toEqual({ 'max-connections': '100' });
  });
});
