// Middleware hooks on room messages: `onMessage` (from clients) and `onSend` (to clients), near-free when unused.
import { NetloomError } from '../codec/errors.js';
import type { Identity } from './identity.js';
import type { Logger, Metrics } from './metrics.js';

/** A room message received from a client, before the room decodes it. */
export interface MessageEvent {
  readonly sessionId: string;
  readonly identity: Identity | undefined;
  readonly roomId: string;
  readonly roomType: string;
  /** The member's client id in the room. */
  readonly clientId: string;
  readonly op: number;
  /** The message name for `op` in the room's protocol (undefined for an unknown op). */
  readonly name: string | undefined;
  /** Payload size in bytes. */
  readonly size: number;
  /** The raw payload, not yet checked: valid only during the hook. */
  readonly payload: Uint8Array;
}

/** A message about to be sent to a client: a room message or a push (broadcast/multicast). */
export interface SendEvent {
  readonly kind: 'room' | 'push';
  readonly sessionId: string;
  readonly identity: Identity | undefined;
  /** The room (undefined for a push). */
  readonly roomId: string | undefined;
  /** The member's client id (undefined for a push). */
  readonly clientId: string | undefined;
  readonly op: number;
  readonly reliable: boolean;
  readonly size: number;
  /** The encoded payload: valid only during the hook (it may be a shared scratch buffer). */
  readonly payload: Uint8Array;
}

/** Return false (or throw a NetloomError) to drop the message; anything else lets it through. */
export type MessageHook = (event: MessageEvent) => unknown;
/** Return false (or throw a NetloomError) to drop the message; anything else lets it through. */
export type SendHook = (event: SendEvent) => unknown;

/** `server.hooks`: install middleware; each call returns a function that removes the hook. */
export interface MessageHooksApi {
  /** Runs on every room message a client sends, before the room decodes it. */
  onMessage(hook: MessageHook): () => void;
  /** Runs on every room message and push sent to a client. */
  onSend(hook: SendHook): () => void;
}

/** Looks up a message name of a room type's client protocol. */
export type OpNamer = (roomType: string, op: number) => string | undefined;

/**
 * The hooks as sessions call them. `receive` and `send` are null while no hook of that kind is
 * installed, so the hot path pays one property check.
 */
export class Middleware implements MessageHooksApi {
  receive: ((event: Omit<MessageEvent, 'name'>) => boolean) | null = null;
  send: ((event: SendEvent) => boolean) | null = null;
  private readonly messageHooks: MessageHook[] = [];
  private readonly sendHooks: SendHook[] = [];

  constructor(
    private readonly opName: OpNamer,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  onMessage(hook: MessageHook): () => void {
    if (typeof hook !== 'function') throw new TypeError('onMessage needs a function');
    this.messageHooks.push(hook);
    this.refresh();
    return () => {
      const i = this.messageHooks.indexOf(hook);
      if (i >= 0) this.messageHooks.splice(i, 1);
      this.refresh();
    };
  }

  onSend(hook: SendHook): () => void {
    if (typeof hook !== 'function') throw new TypeError('onSend needs a function');
    this.sendHooks.push(hook);
    this.refresh();
    return () => {
      const i = this.sendHooks.indexOf(hook);
      if (i >= 0) this.sendHooks.splice(i, 1);
      this.refresh();
    };
  }

  private refresh(): void {
    this.receive = this.messageHooks.length > 0 ? (e) => this.runReceive(e) : null;
    this.send = this.sendHooks.length > 0 ? (e) => this.run(this.sendHooks, e, 'onSend') : null;
  }

  private runReceive(base: Omit<MessageEvent, 'name'>): boolean {
    const opName = this.opName;
    let name: string | undefined | null = null;
    const event = Object.defineProperty({ ...base }, 'name', {
      enumerable: true,
      get: () => {
        if (name === null) name = opName(base.roomType, base.op);
        return name;
      },
    }) as MessageEvent;
    return this.run(this.messageHooks, event, 'onMessage');
  }

  /** Runs hooks in order; the first that returns false or throws drops the message. */
  private run<E>(hooks: readonly ((event: E) => unknown)[], event: E, which: string): boolean {
    for (const hook of [...hooks]) {
      let verdict: unknown;
      try {
        verdict = hook(event);
      } catch (err) {
        if (err instanceof NetloomError) this.metrics.error(err.code);
        else {
          this.metrics.inc(`hook_errors{${which}}`);
          this.log.error({ err }, `middleware ${which} threw; message dropped`);
        }
        this.metrics.inc(`messages_dropped{${which}}`);
        return false;
      }
      if (verdict === false) {
        this.metrics.inc(`messages_dropped{${which}}`);
        return false;
      }
    }
    return true;
  }
}
