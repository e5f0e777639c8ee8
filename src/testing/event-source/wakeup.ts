/** @module A pause that ends early when something changes, and leaves no timer behind once it ends. */

/** Lets a loop sleep until a deadline or until another part of the runner calls `notify()`. */
export class Wakeup {
  #waiters = new Set<() => void>();
  /** A notify() that found nobody waiting: the next wait() returns at once, so no change is missed. */
  #missed = false;

  /** Resolves after `ms` (forever when undefined) or at the next `notify()`, whichever comes first. */
  wait(ms?: number): Promise<void> {
    if (this.#missed) {
      this.#missed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      this.#waiters.add(done);
      if (ms !== undefined) timer = setTimeout(done, ms);
    });
  }

  /** Ends every pending wait now, or the next one if none is pending. */
  notify(): void {
    if (this.#waiters.size === 0) this.#missed = true;
    for (const done of [...this.#waiters]) done();
  }
}
