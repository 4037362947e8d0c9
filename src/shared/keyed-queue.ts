// KeyedQueue: runs async jobs one after another per key (jobs under different keys run side by side).
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `job` once every earlier job under `key` has settled; resolves or rejects as it does. */
  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(job, job);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    // Forget the key once its last job settled, so the map does not grow with every key ever used.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
