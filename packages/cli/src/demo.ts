import { CreateMode, type FaaSKeeperClient, FaaSKeeperError, type WatchedEvent } from '@faaskeeper/client';
import { createEmbeddedService, ManualClock } from '@faaskeeper/core';
import { ExitCode } from './shell/commands.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where the narration goes, one line per call. */
  out: (line: string) => void;
  /** Real-time bound on each wait, so that a broken deployment fails the demo instead of hanging it. */
  stepTimeoutMs?: number;
}

const ELECTION = '/election';
const decoder = new TextDecoder();
const hex = (n: number) => `0x${n.toString(16)}`;

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One candidate of a leader election, written inline with the client API (ZooKeeper's recipe):
 * an ephemeral sequential node under /election; the lowest node leads; every other candidate
 * watches only its predecessor (no herd effect) and checks again when that node goes.
 */
class Candidate {
  node = '';
  private becameLeader!: () => void;
  private failed!: (error: unknown) => void;
  /** Resolves when this candidate becomes the leader; rejects if checking fails. */
  readonly leadership = new Promise<void>((resolve, reject) => {
    this.becameLeader = resolve;
    this.failed = reject;
  });

  constructor(
    readonly name: string,
    readonly zk: FaaSKeeperClient,
    private readonly say: (line: string) => void,
  ) {
    this.leadership.catch(() => undefined); // observed through within(); never unhandled
  }

  async join(): Promise<void> {
    this.node = await this.zk.create(`${ELECTION}/n-`, this.name, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
    this.say(`  ${this.name} created ${this.node}`);
    await this.check();
  }

  private async check(): Promise<void> {
    const { children } = await this.zk.getChildren(ELECTION);
    const mine = this.node.slice(ELECTION.length + 1);
    const index = children.indexOf(mine);
    if (index === 0) {
      this.say(`  ${this.name} is the LEADER (${mine} is the lowest node)`);
      this.becameLeader();
      return;
    }
    if (index < 0) throw new Error(`${this.name}'s node ${this.node} is gone`);
    const predecessor = `${ELECTION}/${children[index - 1]}`;
    const stat = await this.zk.exists(predecessor, {
      watch: (event) => {
        this.say(`  ${this.name}'s watch fired: ${event.type} ${event.path}`);
        this.check().catch((error: unknown) => this.failed(error));
      },
    });
    // The predecessor left between the two reads: look again.
    if (stat === null) return this.check();
    this.say(`  ${this.name} follows, watching its predecessor ${predecessor}`);
  }
}

/**
 * `faaskeeper demo`: a narrated tour of the embedded deployment — a leader election among three
 * clients, a watch firing, and a session expiring (with the next candidate taking over). Time is
 * a {@link ManualClock}, so the session timeout passes in milliseconds. Resolves 0 when every step
 * behaved as ZooKeeper promises, 1 (after saying why) otherwise.
 */
export async function runDemo(options: DemoOptions): Promise<ExitCode> {
  // Closing the deployment ends the sessions, which fires the remaining election watches: the
  // narration stops before that.
  let narrating = true;
  const say = (line: string) => {
    if (narrating) options.out(line);
  };
  const stepMs = options.stepTimeoutMs ?? 5_000;
  const sessionTimeoutMs = 6_000;
  const clockSkewMs = 1_000;
  const heartbeatIntervalMs = 1_000;
  const clock = new ManualClock();
  const service = createEmbeddedService({ clock, sessionTimeoutMs, clockSkewMs, heartbeatIntervalMs });
  try {
    say('FaaSKeeper demo: ZooKeeper semantics on serverless building blocks, run in this process.');
    say('');
    say('1. Start an embedded deployment: the real writer, distributor and heartbeat functions on');
    say('   in-memory queues and stores, with a manual clock.');
    const names = ['alice', 'bob', 'carol'] as const;
    // Fixed session ids keep the narration the same from run to run.
    const zk: Record<(typeof names)[number], FaaSKeeperClient> = {
      alice: await service.connect({ sessionId: 0xa11ce }),
      bob: await service.connect({ sessionId: 0xb0b }),
      carol: await service.connect({ sessionId: 0xca201 }),
    };
    for (const name of names) say(`  ${name} connected: session ${hex(zk[name].sessionNumber)}`);

    say('');
    say('2. Leader election: each client creates an EPHEMERAL_SEQUENTIAL node under /election;');
    say('   the lowest node leads, every other client watches its predecessor.');
    await zk.alice.create(ELECTION);
    const candidates = names.map((name) => new Candidate(name, zk[name], say));
    for (const c of candidates) await c.join();
    const [alice, bob] = candidates as [Candidate, Candidate, Candidate];
    await within(alice.leadership, stepMs, 'alice to lead');

    say('');
    say('3. A watch fires: carol reads /config and leaves a watch; the leader changes it.');
    await zk.alice.create('/config', 'color=blue');
    say('  alice (leader) created /config = "color=blue"');
    let fired!: (event: WatchedEvent) => void;
    const changed = new Promise<WatchedEvent>((resolve) => {
      fired = resolve;
    });
    const first = await zk.carol.getData('/config', {
      watch: (event) => {
        say(`  carol's watcher: ${event.type} ${event.path}`);
        fired(event);
      },
    });
    say(
      `  carol read /config = "${decoder.decode(first.data)}" (version ${first.stat.version}) with a watch`,
    );
    say('  alice sets /config = "color=green"');
    await zk.alice.setData('/config', 'color=green');
    await within(changed, stepMs, "carol's watch event");
    const second = await zk.carol.getData('/config');
    say(`  carol re-read /config = "${decoder.decode(second.data)}" (version ${second.stat.version})`);

    say('');
    say('4. A session expires: a network partition cuts alice off, so she stops renewing her session.');
    const aliceExpired = new Promise<void>((resolve) => {
      zk.alice.on('state', (state) => {
        if (state === 'EXPIRED') resolve();
      });
    });
    service.partition(zk.alice);
    const waitMs = sessionTimeoutMs + clockSkewMs + heartbeatIntervalMs;
    say(
      `  the clock moves ${waitMs / 1000} s: session timeout ${sessionTimeoutMs / 1000} s + clock-skew margin ` +
        `${clockSkewMs / 1000} s + one heartbeat interval ${heartbeatIntervalMs / 1000} s`,
    );
    // Small steps, so that bob's and carol's pings (every timeout/3) are processed as time passes.
    for (let t = 0; t <= waitMs; t += 250) await clock.advance(250);
    await within(bob.leadership, stepMs, 'bob to take over');
    if ((await zk.bob.exists(alice.node)) !== null) throw new Error(`${alice.node} outlived its session`);
    say(`  ${alice.node} is gone: the heartbeat expired alice's session and the writer deleted`);
    say("  her ephemeral node in a transaction of its own, which fired bob's watch.");
    const { children } = await zk.carol.getChildren(ELECTION);
    say(`  /election now holds: ${children.join(', ')}`);

    say('');
    say('5. The partition heals: alice hears that her session is over.');
    service.heal(zk.alice);
    await within(aliceExpired, stepMs, 'alice to see EXPIRED');
    say(`  alice's client state: ${zk.alice.state}`);
    try {
      await zk.alice.getData('/config');
      throw new Error('an expired session could still read');
    } catch (error) {
      if (!(error instanceof FaaSKeeperError) || error.code !== 'SESSIONEXPIRED') throw error;
      say(`  alice's next call fails: ${error.message}`);
    }

    say('');
    say('Demo complete: election, watch and session expiry all behaved as ZooKeeper specifies.');
    return ExitCode.OK;
  } catch (error) {
    say(`Demo failed: ${error instanceof Error ? error.message : String(error)}`);
    return ExitCode.FAILED;
  } finally {
    narrating = false;
    await service.close();
  }
}
