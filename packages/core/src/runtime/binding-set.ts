import type { Binding } from '../ports/runtime.js';

/**
 * The bindings a runtime has handed out and not yet stopped, so that `close()` stops the rest
 * (shared by the in-memory runtime and the providers' in-process pollers).
 */
export class BindingSet {
  private readonly live = new Set<Binding>();

  /** A binding that stops `inner` and forgets itself; kept until then. */
  track(inner: Binding): Binding {
    const binding: Binding = {
      stop: async () => {
        await inner.stop();
        this.live.delete(binding);
      },
    };
    this.live.add(binding);
    return binding;
  }

  /** Stops every binding still live. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.live].map((b) => b.stop()));
  }
}
