import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP relay on 127.0.0.1 that a scenario can cut: {@link #cut()} drops every relayed connection and
 * refuses new ones until {@link #resume()}. A ZooKeeper client connected through it loses its connection
 * without its session ending, so its reconnect (same session id and password, then SetWatches with its
 * last zxid) can be observed against any server.
 */
final class CutProxy implements Closeable {
  private final ServerSocket server;
  private final String targetHost;
  private final int targetPort;
  private final List<Socket> live = new ArrayList<>();
  private volatile boolean open = true;

  CutProxy(String target) throws IOException {
    int colon = target.lastIndexOf(':');
    targetHost = target.substring(0, colon);
    targetPort = Integer.parseInt(target.substring(colon + 1));
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::acceptLoop, "cut-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The connect string clients use to go through the relay. */
  String connectString() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  /** Drops every relayed connection and refuses new ones. */
  synchronized void cut() {
    open = false;
    for (Socket s : live) closeQuietly(s);
    live.clear();
  }

  /** Accepts and relays connections again. */
  void resume() {
    open = true;
  }

  @Override
  public void close() {
    cut();
    closeQuietly(server);
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      Socket client;
      try {
        client = server.accept();
      } catch (IOException e) {
        return; // the server socket was closed: the relay is done
      }
      if (!open) {
        closeQuietly(client);
        continue;
      }
      try {
        Socket upstream = new Socket(targetHost, targetPort);
        synchronized (this) {
          live.add(client);
          live.add(upstream);
        }
        pump(client, upstream);
        pump(upstream, client);
      } catch (IOException e) {
        // The target refused: the client sees a closed connection and retries, as it would without us.
        closeQuietly(client);
      }
    }
  }

  private static void pump(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buffer = new byte[64 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // One side was cut or closed: close the other so the peer notices too.
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, "cut-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // Closing a socket that is already broken: nothing left to release.
    }
  }
}
