import { describe, expect, it } from 'vitest';
import { ExitCode, runDemo } from '../src/index.js';

describe('faaskeeper demo', () => {
  it('runs to completion with exit 0, narrating election, watch and session expiry in order', async () => {
    const lines: string[] = [];
    const started = performance.now();
    const code = await runDemo({ out: (line) => lines.push(line) });
    expect(code, lines.join('\n')).toBe(ExitCode.OK);
    expect(performance.now() - started).toBeLessThan(5_000);
    const milestones = [
      '  alice connected: session 0xa11ce',
      '  alice created /election/n-0000000000',
      '  alice is the LEADER (n-0000000000 is the lowest node)',
      '  bob follows, watching its predecessor /election/n-0000000000',
      '  carol follows, watching its predecessor /election/n-0000000001',
      '  carol read /config = "color=blue" (version 0) with a watch',
      "  carol's watcher: NodeDataChanged /config",
      '  carol re-read /config = "color=green" (version 1)',
      "  bob's watch fired: NodeDeleted /election/n-0000000000",
      '  bob is the LEADER (n-0000000001 is the lowest node)',
      '  /election now holds: n-0000000001, n-0000000002',
      "  alice's client state: EXPIRED",
      "  alice's next call fails: SESSIONEXPIRED: the session has expired",
      'Demo complete: election, watch and session expiry all behaved as ZooKeeper specifies.',
    ];
    let at = -1;
    for (const m of milestones) {
      const next = lines.indexOf(m, at + 1);
      expect(next, `missing or out of order: ${m}\n${lines.join('\n')}`).toBeGreaterThan(at);
      at = next;
    }
    // Only bob takes over: carol keeps following (no herd effect), and nothing is said after the end.
    expect(lines.filter((l) => l.includes('is the LEADER'))).toHaveLength(2);
    expect(lines.at(-1)).toBe(milestones.at(-1));
  });
});
