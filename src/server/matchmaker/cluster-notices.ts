// Finished-ticket notices of the cluster matchmaker: the bus subscription, publishing, and the long-polls they wake.
import type { Logger } from '../metrics.js';
import type { ClusterStore } from './cluster-store.js';
import type { MatchmakerBackend, TicketStatus } from './types.js';

/** Ends one long-poll with a ticket's status (or the error that stopped it). */
export type TicketWaiter = (status: TicketStatus) => void;

/**
 * The `mm:done` channel of one node: any node publishes the ids of the tickets it finished, and each node
 * reads again the ones its long-polls await, resolving them at once. The bus delivers at most once, so a
 * wait's last word is still a read of its own.
 */
export class TicketNotices {
  private readonly channel = 'mm:done'; // the bus puts it under the driver's prefix
  private readonly waiters = new Map<string, Set<TicketWaiter>>();
  private subscribing: Promise<void> | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly backend: MatchmakerBackend,
    private readonly store: ClusterStore,
    private readonly log: Logger,
    /** True once the matchmaker is closing: no new subscription is made or kept. */
    private readonly closed: () => boolean,
  ) {}

  /** True while the subscription is in place. */
  get subscribed(): boolean {
    return this.unsubscribe !== undefined;
  }

  /** Subscribes to finished-ticket notices (once; a failed attempt is retried by the next caller). */
  subscribe(): Promise<void> {
    if (this.unsubscribe || this.closed()) return Promise.resolve();
    if (!this.subscribing) {
      const attempt = this.backend.subscribe(this.channel, (message) => this.onDone(message));
      attempt.then(
        (unsubscribe) => {
          if (this.closed() || this.unsubscribe)
            void this.store.bounded('unsubscribe', unsubscribe).catch(() => {});
          else this.unsubscribe = unsubscribe;
        },
        () => {},
      );
      this.subscribing = this.store
        .bounded('subscribe', () => attempt)
        .then(() => undefined)
        .finally(() => {
          this.subscribing = undefined;
        });
    }
    return this.subscribing;
  }

  /** Has `end` called with the ticket's status when a notice says it finished. */
  listen(ticketId: string, end: TicketWaiter): void {
    let set = this.waiters.get(ticketId);
    if (!set) {
      set = new Set();
      this.waiters.set(ticketId, set);
    }
    set.add(end);
  }

  /** Stops listening for `end` (its wait is over). */
  forget(ticketId: string, end: TicketWaiter): void {
    this.waiters.get(ticketId)?.delete(end);
    if (this.waiters.get(ticketId)?.size === 0) this.waiters.delete(ticketId);
  }

  /** Tells every node that these tickets finished (a failure is logged: their waits end on their last read). */
  async announce(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.store
      .bounded('publish', () => this.backend.publish(this.channel, ids.join(',')))
      .catch((err: unknown) => {
        this.log.warn({ err }, 'matchmaker could not publish finished tickets');
      });
  }

  /** Ends every wait on this node with `{ status: 'pending' }`, then unsubscribes. */
  async close(): Promise<void> {
    for (const set of [...this.waiters.values()]) for (const end of [...set]) end({ status: 'pending' });
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    if (unsubscribe) await this.store.bounded('unsubscribe', unsubscribe).catch(() => {});
  }

  /** A notice of finished tickets: each one awaited here is read once and its waits resolved. */
  private onDone(message: string): void {
    for (const id of message.split(',')) {
      if (!this.waiters.has(id)) continue;
      this.store.status(id).then(
        (found) => {
          if (!found || found.status.status === 'pending') return;
          for (const end of [...(this.waiters.get(id) ?? [])]) end(found.status);
        },
        () => {}, // the wait's own final read reports Redis trouble
      );
    }
  }
}
