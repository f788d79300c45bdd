import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Stat;

/**
 * Drives Apache ZooKeeper's own Java client (the one Curator, Kafka and HBase sit on) against a
 * connect string and prints a transcript, one line per result or watch event.
 *
 * <p>Modes:
 * <ul>
 *   <li>{@code scenario <connect>}: a fixed walk through every 3.5-3.9 client operation.</li>
 *   <li>{@code replay <connect> <seed> <ops> [root]}: a seeded random sequence over several sessions
 *       (the differential test runs the same seed against ZooKeeper and the gateway).</li>
 * </ul>
 *
 * <p>Raw values that differ between servers for no client-visible reason are tagged so the test can
 * normalise them: {@code zxid:0x..} (mapped to their rank of first appearance) and
 * {@code session:0x..} (mapped to indices). Times are printed as relations only. Watch events are
 * printed after a barrier: every live client syncs and reads the paths an operation touched, and
 * the Java client delivers a callback only after every event received before its reply, so all
 * events the operation triggered are printed right after it, in the order each client got them.
 */
public final class ZkCompat {
  private static final int SESSION_TIMEOUT_MS = 10_000;
  private static final List<ACL> OPEN = ZooDefs.Ids.OPEN_ACL_UNSAFE;
  private static final long STARTED_AT = System.currentTimeMillis();

  /** One ZooKeeper handle and the watch events its watchers have seen since the last print. */
  private static final class Client implements Watcher {
    final String name;
    final List<String> events = Collections.synchronizedList(new ArrayList<>());
    final CountDownLatch connected = new CountDownLatch(1);
    final CountDownLatch expired = new CountDownLatch(1);
    /** Every connection state seen, for steps that wait for a disconnect or a reconnect. */
    final java.util.concurrent.LinkedBlockingQueue<Event.KeeperState> states =
        new java.util.concurrent.LinkedBlockingQueue<>();
    volatile boolean recordStates;
    ZooKeeper zk;

    Client(String name) {
      this.name = name;
    }

    @Override
    public void process(WatchedEvent event) {
      if (event.getType() == Event.EventType.None) {
        states.add(event.getState());
        if (event.getState() == Event.KeeperState.SyncConnected) connected.countDown();
        if (event.getState() == Event.KeeperState.Expired) expired.countDown();
        // Connection-state events are timing-dependent (reconnects), so they are only recorded when a
        // step asks for them.
        if (recordStates) events.add(name + " state " + event.getState());
        return;
      }
      events.add(name + " event " + event.getType() + " " + event.getPath());
    }

    /**
     * A watcher of its own (for addWatch and removeWatches), recording into the same list. Connection
     * state events are left to the default watcher: the client hands them to every watcher in hash-set
     * order, which would make the transcript's order random.
     */
    Watcher tagged(String tag) {
      return event -> {
        if (event.getType() != Event.EventType.None) {
          events.add(name + " " + tag + " " + event.getType() + " " + event.getPath());
        }
      };
    }
  }

  private final String connect;
  private final StringBuilder out = new StringBuilder();
  private final List<Client> clients = new ArrayList<>();
  private final List<Long> sessions = new ArrayList<>();

  private ZkCompat(String connect) {
    this.connect = connect;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: ZkCompat scenario <connect> | replay <connect> <seed> <ops> [root]");
      System.exit(64);
    }
    ZkCompat run = new ZkCompat(args[1]);
    int code = 0;
    try {
      switch (args[0]) {
        case "scenario" -> run.scenario();
        case "replay" -> run.replay(Long.parseLong(args[2]), Integer.parseInt(args[3]), args.length > 4 ? args[4] : "/d" + args[2]);
        default -> throw new IllegalArgumentException("unknown mode " + args[0]);
      }
    } catch (Throwable t) {
      // A crash is part of the transcript (the test compares it), and the exit code says it happened.
      run.line("FATAL " + t);
      t.printStackTrace();
      code = 1;
    } finally {
      for (Client c : run.clients) {
        if (c.zk != null) c.zk.close(1000);
      }
      System.out.print(run.out);
      System.out.flush();
    }
    System.exit(code);
  }

  // ---------------------------------------------------------------------------------------------
  // Printing

  private void line(String s) {
    out.append(s).append('\n');
  }

  private String session(long id) {
    return "session:0x" + Long.toHexString(id);
  }

  private static String zxid(long z) {
    return "zxid:0x" + Long.toHexString(z);
  }

  private String owner(long owner) {
    if (owner == 0) return "none";
    if (owner == Long.MIN_VALUE) return "container";
    if ((owner >>> 56) == 0xFFL) return "ttl(" + (owner & 0x00FFFFFFFFFFFFFFL) + ")";
    return session(owner);
  }

  private String stat(Stat s) {
    if (s == null) return "null";
    boolean recent = Math.abs(s.getCtime() - STARTED_AT) < 600_000;
    // A node never changed has mtime == ctime exactly; after a change mtime is only not earlier (a setData
    // in the same millisecond as the create gives c=m on ZooKeeper too), so that case prints c<=m.
    String times = s.getCzxid() == s.getMzxid()
        ? (s.getCtime() == s.getMtime() ? "c=m" : s.getCtime() < s.getMtime() ? "c<m" : "c>m")
        : (s.getCtime() <= s.getMtime() ? "c<=m" : "c>m");
    return "{czxid=" + zxid(s.getCzxid()) + " mzxid=" + zxid(s.getMzxid()) + " pzxid=" + zxid(s.getPzxid())
        + " times=" + times + (recent ? "" : " ctime-not-recent=" + s.getCtime())
        + " version=" + s.getVersion() + " cversion=" + s.getCversion() + " aversion=" + s.getAversion()
        + " owner=" + owner(s.getEphemeralOwner()) + " dataLength=" + s.getDataLength()
        + " numChildren=" + s.getNumChildren() + "}";
  }

  private static String text(byte[] data) {
    return data == null ? "null" : "'" + new String(data, StandardCharsets.UTF_8) + "'";
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String sorted(List<String> names) {
    List<String> copy = new ArrayList<>(names);
    Collections.sort(copy);
    return copy.toString();
  }

  private String result(OpResult r) {
    if (r instanceof OpResult.CreateResult c) {
      return "create(" + c.getPath() + (c.getStat() == null ? "" : " " + stat(c.getStat())) + ")";
    }
    if (r instanceof OpResult.SetDataResult s) return "setData(" + stat(s.getStat()) + ")";
    if (r instanceof OpResult.DeleteResult) return "delete";
    if (r instanceof OpResult.CheckResult) return "check";
    if (r instanceof OpResult.GetDataResult g) return "getData(" + text(g.getData()) + " " + stat(g.getStat()) + ")";
    if (r instanceof OpResult.GetChildrenResult g) return "getChildren(" + sorted(g.getChildren()) + ")";
    if (r instanceof OpResult.ErrorResult e) return "error(" + KeeperException.Code.get(e.getErr()) + ")";
    return "unknown(" + r.getClass().getSimpleName() + " type " + r.getType() + ")";
  }

  private String results(List<OpResult> rs) {
    List<String> parts = new ArrayList<>();
    if (rs != null) for (OpResult r : rs) parts.add(result(r));
    return parts.toString();
  }

  /** Runs one step and prints its result or its KeeperException code. */
  private interface Step {
    String run() throws Exception;
  }

  private void step(String label, Step step) {
    String result;
    try {
      result = step.run();
    } catch (KeeperException.NoWatcherException e) {
      result = "err=" + e.code();
    } catch (KeeperException e) {
      result = "err=" + e.code() + (e.getResults() == null ? "" : " results=" + results(e.getResults()));
    } catch (Exception e) {
      result = "exception=" + e.getClass().getSimpleName();
    }
    line(label + " -> " + result);
  }

  // ---------------------------------------------------------------------------------------------
  // Sessions and barriers

  private Client open(String name) throws Exception {
    Client c = new Client(name);
    c.zk = new ZooKeeper(connect, SESSION_TIMEOUT_MS, c);
    await(c.connected, name + " connect");
    clients.add(c);
    sessions.add(c.zk.getSessionId());
    return c;
  }

  /** Waits until {@code c} reports {@code state} (states seen before this call count too). */
  private static void awaitState(Client c, Watcher.Event.KeeperState state) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      long left = deadline - System.nanoTime();
      Watcher.Event.KeeperState seen = c.states.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
      if (seen == state) return;
      if (seen == null) throw new IllegalStateException("timed out: " + c.name + " waiting for " + state);
    }
  }

  private static void await(CountDownLatch latch, String what) throws InterruptedException {
    if (!latch.await(15, TimeUnit.SECONDS)) throw new IllegalStateException("timed out: " + what);
  }

  /**
   * Waits until every live client has had a reply to a sync and to an exists of each touched path,
   * then prints (and clears) every event each client saw, client by client. ZooKeeper promises a
   * client sees a watch event before it sees the change's data, and the Java client runs callbacks
   * and watchers on one thread in arrival order, so after this barrier every event caused by the
   * operation before it has been recorded.
   */
  private void barrier(String... paths) throws Exception {
    barrier(false, paths);
  }

  /**
   * {@link #barrier(String...)}, printing each client's events sorted when {@code sorted}: for a closed
   * session, whose ephemerals all go in one transaction in an order ZooKeeper leaves undefined (it walks
   * a hash set).
   */
  private void barrier(boolean sorted, String... paths) throws Exception {
    for (Client c : clients) {
      if (c.zk == null || !c.zk.getState().isAlive()) continue;
      CountDownLatch done = new CountDownLatch(1 + paths.length);
      c.zk.sync("/", (rc, path, ctx) -> done.countDown(), null);
      for (String p : paths) c.zk.exists(p, false, (rc, path, ctx, stat) -> done.countDown(), null);
      await(done, c.name + " barrier");
    }
    flushEvents(sorted);
  }

  private void flushEvents(boolean sorted) {
    for (Client c : clients) {
      synchronized (c.events) {
        if (sorted) Collections.sort(c.events);
        for (String e : c.events) line("  " + e);
        c.events.clear();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The scenario

  private void scenario() throws Exception {
    Client a = open("A");
    Client b = open("B");
    ZooKeeper za = a.zk;
    ZooKeeper zb = b.zk;
    line("A connected " + session(za.getSessionId()) + " timeout=" + za.getSessionTimeout()
        + " passwordLength=" + za.getSessionPasswd().length);
    line("B connected " + session(zb.getSessionId()) + " timeout=" + zb.getSessionTimeout());

    // create, in every mode, with and without a Stat (create vs create2 on the wire).
    step("create /compat PERSISTENT", () -> za.create("/compat", bytes("root"), OPEN, CreateMode.PERSISTENT));
    step("create /compat again", () -> za.create("/compat", bytes("x"), OPEN, CreateMode.PERSISTENT));
    step("create /missing/child", () -> za.create("/missing/child", null, OPEN, CreateMode.PERSISTENT));
    step("create2 /compat/p", () -> {
      Stat s = new Stat();
      String p = za.create("/compat/p", bytes("p-data"), OPEN, CreateMode.PERSISTENT, s);
      return p + " " + stat(s);
    });
    step("create2 /compat/e EPHEMERAL", () -> {
      Stat s = new Stat();
      return za.create("/compat/e", bytes("e"), OPEN, CreateMode.EPHEMERAL, s) + " " + stat(s);
    });
    step("create /compat/e/child under an ephemeral",
        () -> za.create("/compat/e/child", null, OPEN, CreateMode.PERSISTENT));
    for (int i = 0; i < 3; i++) {
      step("create /compat/p/seq- PERSISTENT_SEQUENTIAL",
          () -> za.create("/compat/p/seq-", bytes("s"), OPEN, CreateMode.PERSISTENT_SEQUENTIAL));
    }
    step("create2 /compat/p/eseq- EPHEMERAL_SEQUENTIAL", () -> {
      Stat s = new Stat();
      return za.create("/compat/p/eseq-", null, OPEN, CreateMode.EPHEMERAL_SEQUENTIAL, s) + " " + stat(s);
    });
    step("create2 /compat/c CONTAINER", () -> {
      Stat s = new Stat();
      return za.create("/compat/c", bytes("c"), OPEN, CreateMode.CONTAINER, s) + " " + stat(s);
    });
    step("create2 /compat/ttl PERSISTENT_WITH_TTL 60000", () -> {
      Stat s = new Stat();
      return za.create("/compat/ttl", bytes("t"), OPEN, CreateMode.PERSISTENT_WITH_TTL, s, 60_000) + " " + stat(s);
    });
    step("create2 /compat/p/tseq- PERSISTENT_SEQUENTIAL_WITH_TTL 60000", () -> {
      Stat s = new Stat();
      return za.create("/compat/p/tseq-", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, s, 60_000)
          + " " + stat(s);
    });
    step("create /compat/p/seq-x then delete it", () -> {
      za.create("/compat/p/x", null, OPEN, CreateMode.PERSISTENT);
      za.delete("/compat/p/x", -1);
      return "ok";
    });
    step("create /compat/p/seq- after a delete",
        () -> za.create("/compat/p/seq-", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL));
    step("exists /compat/p", () -> stat(za.exists("/compat/p", false)));
    // ZooKeeper keeps null data (a -1 length on the wire) apart from empty data (length 0).
    step("create /compat/nulldata null", () -> za.create("/compat/nulldata", null, OPEN, CreateMode.PERSISTENT));
    step("create /compat/empty empty", () -> za.create("/compat/empty", new byte[0], OPEN, CreateMode.PERSISTENT));
    step("getData /compat/nulldata", () -> text(za.getData("/compat/nulldata", false, null)));
    step("getData /compat/empty", () -> text(za.getData("/compat/empty", false, null)));
    step("setData /compat/empty null", () -> stat(za.setData("/compat/empty", null, -1)));
    step("getData /compat/empty after setData null", () -> text(za.getData("/compat/empty", false, null)));
    step("exists /compat/c (container)", () -> stat(za.exists("/compat/c", false)));
    step("exists /compat/ttl", () -> stat(za.exists("/compat/ttl", false)));
    // The sequential suffix against cversion, exactly: three sequential creates, a create and a delete
    // of another child, then one more sequential create.
    step("create /compat/q", () -> za.create("/compat/q", null, OPEN, CreateMode.PERSISTENT));
    for (int i = 0; i < 3; i++) {
      step("create /compat/q/n- PERSISTENT_SEQUENTIAL",
          () -> za.create("/compat/q/n-", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL));
    }
    step("create /compat/q/x", () -> za.create("/compat/q/x", null, OPEN, CreateMode.PERSISTENT));
    step("delete /compat/q/x", () -> {
      za.delete("/compat/q/x", -1);
      return "ok";
    });
    step("exists /compat/q before the 4th sequential create", () -> stat(za.exists("/compat/q", false)));
    step("create /compat/q/n- PERSISTENT_SEQUENTIAL (4th)",
        () -> za.create("/compat/q/n-", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL));
    step("exists /compat/q after", () -> stat(za.exists("/compat/q", false)));
    barrier("/compat");

    // Reads, with watches set by A and changes made by B.
    step("A getData /compat/p watch", () -> {
      Stat s = new Stat();
      return text(za.getData("/compat/p", true, s)) + " " + stat(s);
    });
    step("A exists /compat/w watch (missing)", () -> stat(za.exists("/compat/w", true)));
    step("A getChildren /compat watch", () -> sorted(za.getChildren("/compat", true)));
    step("A getChildren2 /compat/p", () -> {
      Stat s = new Stat();
      return sorted(za.getChildren("/compat/p", false, s)) + " " + stat(s);
    });
    step("A getData /compat/nope watch", () -> text(za.getData("/compat/nope", true, null)));
    step("B setData /compat/p", () -> stat(zb.setData("/compat/p", bytes("p2"), -1)));
    barrier("/compat/p");
    step("B setData /compat/p again (watch was one-shot)", () -> stat(zb.setData("/compat/p", bytes("p3"), 1)));
    barrier("/compat/p");
    step("B setData /compat/p bad version", () -> stat(zb.setData("/compat/p", bytes("bad"), 7)));
    step("B create /compat/w", () -> zb.create("/compat/w", bytes("w"), OPEN, CreateMode.PERSISTENT));
    barrier("/compat/w");
    step("B getData /compat/w", () -> {
      Stat s = new Stat();
      return text(zb.getData("/compat/w", false, s)) + " " + stat(s);
    });
    step("A getData /compat/w watch", () -> text(za.getData("/compat/w", true, null)));
    step("A exists /compat/w watch", () -> stat(za.exists("/compat/w", true)));
    step("B delete /compat/w bad version", () -> {
      zb.delete("/compat/w", 3);
      return "ok";
    });
    step("B delete /compat/w", () -> {
      zb.delete("/compat/w", 0);
      return "ok";
    });
    barrier("/compat/w");
    step("B delete /compat/p (not empty)", () -> {
      zb.delete("/compat/p", -1);
      return "ok";
    });
    step("B delete /compat/nope", () -> {
      zb.delete("/compat/nope", -1);
      return "ok";
    });
    step("getACL /compat", () -> {
      Stat s = new Stat();
      List<String> acl = new ArrayList<>();
      for (ACL entry : za.getACL("/compat", s)) {
        acl.add(entry.getPerms() + ":" + entry.getId().getScheme() + ":" + entry.getId().getId());
      }
      return acl + " " + stat(s);
    });

    // multi: success with per-op results, then a rollback.
    step("A multi create+create sequential+setData+check+delete", () -> results(za.multi(Arrays.asList(
        Op.create("/compat/m1", bytes("m1"), OPEN, CreateMode.PERSISTENT),
        Op.create("/compat/m2", bytes("m2"), OPEN, CreateMode.PERSISTENT_SEQUENTIAL),
        Op.setData("/compat/m1", bytes("m1b"), 0),
        Op.check("/compat/m1", 1),
        Op.delete("/compat/c", -1)))));
    barrier("/compat", "/compat/m1", "/compat/c");
    step("A multi rollback (check fails)", () -> results(za.multi(Arrays.asList(
        Op.create("/compat/r1", null, OPEN, CreateMode.PERSISTENT),
        Op.setData("/compat/m1", bytes("never"), -1),
        Op.check("/compat/m1", 99),
        Op.create("/compat/r2", null, OPEN, CreateMode.PERSISTENT)))));
    step("A multi rollback (create exists)", () -> results(za.multi(Arrays.asList(
        Op.delete("/compat/m1", -1),
        Op.create("/compat/p", null, OPEN, CreateMode.PERSISTENT)))));
    step("exists /compat/r1 after rollback", () -> stat(za.exists("/compat/r1", false)));
    step("getData /compat/m1 after rollback", () -> {
      Stat s = new Stat();
      return text(za.getData("/compat/m1", false, s)) + " " + stat(s);
    });
    step("A multiRead getData+getChildren+missing", () -> results(za.multi(Arrays.asList(
        Op.getData("/compat/m1"),
        Op.getChildren("/compat/p"),
        Op.getData("/compat/none")))));
    barrier("/compat");

    // sync
    CountDownLatch synced = new CountDownLatch(1);
    AtomicReference<String> syncResult = new AtomicReference<>();
    zb.sync("/compat", (rc, path, ctx) -> {
      syncResult.set(KeeperException.Code.get(rc) + " " + path);
      synced.countDown();
    }, null);
    await(synced, "sync");
    line("B sync /compat -> " + syncResult.get());

    // Persistent and persistent recursive watches, and removing watches.
    // Persistent and recursive watches on different paths: ZooKeeper 3.8 keeps one watch mode per
    // session and path (a second addWatch on the same path replaces the first; 3.9 keeps both, see
    // ZOOKEEPER-4466), so overlapping them would test a version difference, not the protocol.
    step("A create /compat/pw", () -> za.create("/compat/pw", null, OPEN, CreateMode.PERSISTENT));
    step("A create /compat/rw", () -> za.create("/compat/rw", null, OPEN, CreateMode.PERSISTENT));
    Watcher persistent = a.tagged("persistent");
    Watcher recursive = a.tagged("recursive");
    step("A addWatch /compat/pw PERSISTENT", () -> {
      za.addWatch("/compat/pw", persistent, AddWatchMode.PERSISTENT);
      return "ok";
    });
    step("A addWatch /compat/rw PERSISTENT_RECURSIVE", () -> {
      za.addWatch("/compat/rw", recursive, AddWatchMode.PERSISTENT_RECURSIVE);
      return "ok";
    });
    step("B setData /compat/pw", () -> stat(zb.setData("/compat/pw", bytes("1"), -1)));
    barrier("/compat/pw");
    step("B setData /compat/pw again", () -> stat(zb.setData("/compat/pw", bytes("2"), -1)));
    barrier("/compat/pw");
    step("B create /compat/pw/a", () -> zb.create("/compat/pw/a", null, OPEN, CreateMode.PERSISTENT));
    barrier("/compat/pw/a");
    step("B setData /compat/pw/a (below a non-recursive watch)", () -> stat(zb.setData("/compat/pw/a", bytes("x"), -1)));
    barrier("/compat/pw/a");
    step("B setData /compat/rw", () -> stat(zb.setData("/compat/rw", bytes("1"), -1)));
    barrier("/compat/rw");
    step("B create /compat/rw/a", () -> zb.create("/compat/rw/a", null, OPEN, CreateMode.PERSISTENT));
    barrier("/compat/rw/a");
    step("B create /compat/rw/a/b", () -> zb.create("/compat/rw/a/b", null, OPEN, CreateMode.PERSISTENT));
    barrier("/compat/rw/a/b");
    step("B setData /compat/rw/a/b", () -> stat(zb.setData("/compat/rw/a/b", bytes("deep"), -1)));
    barrier("/compat/rw/a/b");
    step("B delete /compat/rw/a/b", () -> {
      zb.delete("/compat/rw/a/b", -1);
      return "ok";
    });
    barrier("/compat/rw/a/b");
    step("A removeWatches /compat/rw recursive watcher Any", () -> {
      za.removeWatches("/compat/rw", recursive, Watcher.WatcherType.Any, false);
      return "ok";
    });
    barrier("/compat/rw");
    step("B create /compat/rw/c (recursive watch removed)",
        () -> zb.create("/compat/rw/c", null, OPEN, CreateMode.PERSISTENT));
    barrier("/compat/rw/c");
    step("A removeAllWatches /compat/pw Any", () -> {
      za.removeAllWatches("/compat/pw", Watcher.WatcherType.Any, false);
      return "ok";
    });
    barrier("/compat/pw");
    step("B setData /compat/pw (no watch left)", () -> stat(zb.setData("/compat/pw", bytes("3"), -1)));
    barrier("/compat/pw");
    step("A removeWatches /compat/pw Data (none)", () -> {
      za.removeWatches("/compat/pw", persistent, Watcher.WatcherType.Data, false);
      return "ok";
    });
    step("A getData /compat/pw watch, then removeWatches Data", () -> {
      za.getData("/compat/pw", true, null);
      za.removeWatches("/compat/pw", a, Watcher.WatcherType.Data, false);
      return "ok";
    });
    barrier("/compat/pw");
    step("A getChildren /compat/pw watch, then removeAllWatches Children", () -> {
      za.getChildren("/compat/pw", true);
      za.removeAllWatches("/compat/pw", Watcher.WatcherType.Children, false);
      return "ok";
    });
    barrier("/compat/pw");

    // Session queries.
    step("A getEphemerals /compat", () -> sorted(za.getEphemerals("/compat")));
    step("A getEphemerals (all)", () -> sorted(za.getEphemerals()));
    step("B getEphemerals /compat", () -> sorted(zb.getEphemerals("/compat")));
    step("A getAllChildrenNumber /compat", () -> String.valueOf(za.getAllChildrenNumber("/compat")));
    step("A getAllChildrenNumber /compat/p", () -> String.valueOf(za.getAllChildrenNumber("/compat/p")));
    step("A getAllChildrenNumber /compat/none", () -> String.valueOf(za.getAllChildrenNumber("/compat/none")));
    step("A whoAmI", () -> {
      List<String> who = new ArrayList<>();
      for (ClientInfo ci : za.whoAmI()) who.add(ci.getAuthScheme() + ":" + ci.getUser());
      return who.toString();
    });

    // Reconnect: R's connection is cut (its session lives on), B changes what R watches, R comes back
    // with the same session and its watches (SetWatches/SetWatches2 with its last zxid), and the server
    // fires the events R missed.
    try (CutProxy proxy = new CutProxy(connect)) {
      Client r = new Client("R");
      r.zk = new ZooKeeper(proxy.connectString(), SESSION_TIMEOUT_MS, r);
      await(r.connected, "R connect");
      clients.add(r);
      ZooKeeper zr = r.zk;
      long rSession = zr.getSessionId();
      step("R create /compat/rc", () -> zr.create("/compat/rc", bytes("0"), OPEN, CreateMode.PERSISTENT));
      step("R create /compat/rc2", () -> zr.create("/compat/rc2", bytes("0"), OPEN, CreateMode.PERSISTENT));
      step("R create /compat/rc-eph EPHEMERAL", () -> zr.create("/compat/rc-eph", null, OPEN, CreateMode.EPHEMERAL));
      step("R getData /compat/rc watch", () -> text(zr.getData("/compat/rc", true, null)));
      step("R exists /compat/rc-new watch", () -> stat(zr.exists("/compat/rc-new", true)));
      step("R getChildren /compat/rc watch", () -> sorted(zr.getChildren("/compat/rc", true)));
      Watcher rPersistent = r.tagged("persistent");
      step("R addWatch /compat/rc2 PERSISTENT", () -> {
        zr.addWatch("/compat/rc2", rPersistent, AddWatchMode.PERSISTENT);
        return "ok";
      });
      barrier("/compat/rc");
      r.states.clear();
      r.recordStates = true;
      proxy.cut();
      awaitState(r, Watcher.Event.KeeperState.Disconnected);
      step("B setData /compat/rc while R is away", () -> stat(zb.setData("/compat/rc", bytes("1"), -1)));
      step("B create /compat/rc-new while R is away", () -> zb.create("/compat/rc-new", null, OPEN, CreateMode.PERSISTENT));
      step("B create /compat/rc/child while R is away", () -> zb.create("/compat/rc/child", null, OPEN, CreateMode.PERSISTENT));
      step("B setData /compat/rc2 while R is away", () -> stat(zb.setData("/compat/rc2", bytes("1"), -1)));
      proxy.resume();
      awaitState(r, Watcher.Event.KeeperState.SyncConnected);
      barrier("/compat/rc", "/compat/rc2", "/compat/rc-new");
      r.recordStates = false;
      line("R reconnected to its session: " + (zr.getSessionId() == rSession));
      step("R exists /compat/rc-eph (ephemeral kept across the reconnect)", () -> stat(zr.exists("/compat/rc-eph", false)));
      step("B setData /compat/rc2 again (R's persistent watch survived)", () -> stat(zb.setData("/compat/rc2", bytes("2"), -1)));
      barrier("/compat/rc2");
      r.zk = null;
      clients.remove(r);
      zr.close();
    }

    // Session takeover: a second handle with A's id and password resumes A's session (ephemerals kept),
    // one with a wrong password is refused with Expired.
    Client bad = new Client("Wrong");
    byte[] wrong = new byte[za.getSessionPasswd().length];
    bad.zk = new ZooKeeper(connect, SESSION_TIMEOUT_MS, bad, za.getSessionId(), wrong);
    line("Wrong password handle expired: " + bad.expired.await(15, TimeUnit.SECONDS));
    bad.zk.close();
    bad.zk = null;
    Client c = new Client("C");
    c.zk = new ZooKeeper(connect, SESSION_TIMEOUT_MS, c, za.getSessionId(), za.getSessionPasswd());
    await(c.connected, "C takes over A's session");
    line("C connected to A's session: " + (c.zk.getSessionId() == za.getSessionId()) + " timeout="
        + c.zk.getSessionTimeout());
    step("C getEphemerals /compat", () -> sorted(c.zk.getEphemerals("/compat")));
    step("C getData /compat/e", () -> {
      Stat s = new Stat();
      return text(c.zk.getData("/compat/e", false, s)) + " " + stat(s);
    });
    step("B getData /compat/e watch", () -> text(zb.getData("/compat/e", true, null)));
    // C closes the session: its ephemerals go, B's watch fires, and A (resumed elsewhere) expires.
    ZooKeeper cz = c.zk;
    c.zk = null;
    cz.close();
    line("A's handle expired after C closed the session: " + a.expired.await(20, TimeUnit.SECONDS));
    a.zk.close();
    a.zk = null;
    barrier("/compat/e", "/compat/p");
    a.events.clear();
    step("B exists /compat/e", () -> stat(zb.exists("/compat/e", false)));
    step("B getChildren /compat/p", () -> sorted(zb.getChildren("/compat/p", false)));
    step("B getEphemerals /compat", () -> sorted(zb.getEphemerals("/compat")));
  }

  // ---------------------------------------------------------------------------------------------
  // Seeded random replay (the differential test)

  private static final int SLOTS = 3;
  private static final String[] PARENTS = {"p0", "p1"};
  private static final CreateMode[] MODES = {
    CreateMode.PERSISTENT, CreateMode.PERSISTENT, CreateMode.EPHEMERAL, CreateMode.EPHEMERAL,
    CreateMode.PERSISTENT_SEQUENTIAL, CreateMode.EPHEMERAL_SEQUENTIAL, CreateMode.CONTAINER,
    CreateMode.PERSISTENT_WITH_TTL, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL,
  };

  private void replay(long seed, int ops, String root) throws Exception {
    Random rng = new Random(seed);
    Client[] slot = new Client[SLOTS];
    int opened = 0;
    for (int i = 0; i < SLOTS; i++) slot[i] = open("s" + (opened++));
    ZooKeeper first = slot[0].zk;
    step("setup " + root, () -> {
      first.create(root, null, OPEN, CreateMode.PERSISTENT);
      for (String p : PARENTS) first.create(root + "/" + p, null, OPEN, CreateMode.PERSISTENT);
      return "ok";
    });
    // Sequential names returned so far: later operations pick them too.
    List<String> pool = new ArrayList<>();
    List<List<String>> ephemeralsOf = new ArrayList<>();
    for (int i = 0; i < SLOTS; i++) ephemeralsOf.add(new ArrayList<>());

    for (int i = 0; i < ops; i++) {
      int s = rng.nextInt(SLOTS);
      Client c = slot[s];
      ZooKeeper zk = c.zk;
      String path = pick(rng, root, pool);
      String parent = path.substring(0, path.lastIndexOf('/'));
      int kind = rng.nextInt(100);
      String label = "#" + i + " " + c.name + " ";
      int version = rng.nextInt(4) == 0 ? rng.nextInt(3) : -1;
      byte[] data = bytes("v" + i);
      if (kind < 30) {
        CreateMode mode = MODES[rng.nextInt(MODES.length)];
        boolean withStat = rng.nextBoolean();
        String target = mode.isSequential()
            ? root + "/" + PARENTS[rng.nextInt(PARENTS.length)] + "/q-"
            : mode == CreateMode.CONTAINER ? leafFor(root, path) : path;
        final List<String> eph = ephemeralsOf.get(s);
        step(label + (withStat ? "create2 " : "create ") + target + " " + mode, () -> {
          Stat st = new Stat();
          String created = mode.isTTL()
              ? zk.create(target, data, OPEN, mode, st, 60_000)
              : withStat ? zk.create(target, data, OPEN, mode, st) : zk.create(target, data, OPEN, mode);
          if (mode.isSequential()) pool.add(created);
          if (mode.isEphemeral()) eph.add(created);
          return created + (withStat || mode.isTTL() ? " " + stat(st) : "");
        });
        barrier(target.endsWith("-") ? target.substring(0, target.lastIndexOf('/')) : target);
      } else if (kind < 38) {
        step(label + "delete " + path + " v" + version, () -> {
          zk.delete(path, version);
          return "ok";
        });
        barrier(path, parent);
      } else if (kind < 47) {
        step(label + "setData " + path + " v" + version, () -> stat(zk.setData(path, data, version)));
        barrier(path);
      } else if (kind < 52) {
        // Every live session watches the same node (exists: data and creation/deletion) and its parent's
        // children, so the next change there fires several watches at once.
        for (Client w : slot) {
          step(label + "(all) " + w.name + " exists " + path + " watch", () -> stat(w.zk.exists(path, true)));
          step(label + "(all) " + w.name + " getChildren " + parent + " watch", () -> sorted(w.zk.getChildren(parent, true)));
        }
      } else if (kind < 61) {
        boolean watch = rng.nextInt(10) < 7;
        step(label + "exists " + path + (watch ? " watch" : ""), () -> stat(zk.exists(path, watch)));
      } else if (kind < 72) {
        boolean watch = rng.nextInt(10) < 7;
        step(label + "getData " + path + (watch ? " watch" : ""), () -> {
          Stat st = new Stat();
          return text(zk.getData(path, watch, st)) + " " + stat(st);
        });
      } else if (kind < 83) {
        boolean watch = rng.nextInt(10) < 7;
        step(label + "getChildren2 " + path + (watch ? " watch" : ""), () -> {
          Stat st = new Stat();
          return sorted(zk.getChildren(path, watch, st)) + " " + stat(st);
        });
      } else if (kind < 92) {
        String other = pick(rng, root, pool);
        String seqParent = root + "/" + PARENTS[rng.nextInt(PARENTS.length)];
        List<Op> multi = new ArrayList<>();
        multi.add(Op.check(parent, rng.nextInt(3) == 0 ? rng.nextInt(3) : -1));
        multi.add(Op.create(path, data, OPEN, rng.nextBoolean() ? CreateMode.PERSISTENT : CreateMode.EPHEMERAL));
        multi.add(Op.create(seqParent + "/m-", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL));
        multi.add(rng.nextBoolean() ? Op.setData(other, data, version) : Op.delete(other, version));
        final List<String> eph = ephemeralsOf.get(s);
        step(label + "multi check " + parent + ", create " + path + ", create " + seqParent + "/m-, "
            + "setData|delete " + other, () -> {
              List<OpResult> rs = zk.multi(multi);
              for (OpResult r : rs) {
                if (r instanceof OpResult.CreateResult cr) {
                  if (cr.getPath().contains("/m-")) pool.add(cr.getPath());
                  else eph.add(cr.getPath());
                }
              }
              return results(rs);
            });
        barrier(path, other, parent, seqParent);
      } else if (kind < 98) {
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<String> rc = new AtomicReference<>();
        zk.sync(parent, (code, p, ctx) -> {
          rc.set(KeeperException.Code.get(code) + " " + p);
          done.countDown();
        }, null);
        await(done, "sync");
        line(label + "sync " + parent + " -> " + rc.get());
      } else {
        // Close the session holding (maybe) ephemerals; a fresh session takes the slot.
        List<String> eph = ephemeralsOf.get(s);
        line(label + "close session (created ephemerals " + eph.size() + ")");
        c.zk = null;
        clients.remove(c);
        zk.close();
        c.events.clear();
        slot[s] = open("s" + (opened++));
        barrier(true, eph.toArray(new String[0]));
        eph.clear();
      }
    }
    flushEvents(false);
    dump(slot[0].zk, root);
  }

  /**
   * A path for the next operation: mostly the fixed children of the shared parents, sometimes a parent,
   * a grandchild or a name a sequential create returned (so NoNode, NodeExists and NotEmpty all occur).
   */
  private static String pick(Random rng, String root, List<String> returned) {
    int r = rng.nextInt(100);
    String parent = root + "/" + PARENTS[rng.nextInt(PARENTS.length)];
    int n = rng.nextInt(3);
    if (r < 15) return parent;
    if (r < 72) return parent + "/n" + n;
    if (r < 87 || returned.isEmpty()) return parent + "/n" + n + "/g" + (n % 2);
    return returned.get(rng.nextInt(returned.size()));
  }

  /**
   * Where a CONTAINER create goes: a path no operation of the replay can create a child under (a
   * grandchild, or a name a sequential create returned). ZooKeeper reaps an emptied container on a timer
   * ({@code znode.container.checkIntervalMs}, slowed to an hour for the reference), FaaSKeeper right after
   * the transaction that emptied it; both are within ZooKeeper's contract but no transcript could compare
   * them, so the replay never empties a container. The containers-ttl guarantee suite checks the reaping
   * over the gateway.
   */
  private static String leafFor(String root, String path) {
    String[] parts = path.substring(root.length()).split("/");
    if (parts.length >= 4 || parts[parts.length - 1].contains("-")) return path;
    if (parts.length == 3) return path + "/g" + (Integer.parseInt(parts[2].substring(1)) % 2);
    return path + "/n0/g0";
  }

  /** Prints the subtree under {@code path}: every node with its data and Stat, children sorted. */
  private void dump(ZooKeeper zk, String path) throws Exception {
    Stat s = new Stat();
    byte[] data;
    try {
      data = zk.getData(path, false, s);
    } catch (KeeperException.NoNodeException e) {
      return;
    }
    line("node " + path + " " + text(data) + " " + stat(s));
    List<String> children = new ArrayList<>(zk.getChildren(path, false));
    Collections.sort(children);
    for (String child : children) dump(zk, path + "/" + child);
  }
}
