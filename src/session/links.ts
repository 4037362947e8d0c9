// The links of one session (client or server side): the base link that said HELLO, an optional upgraded link, which one is primary, and SWITCH.
import { encodeFrame, FrameKind } from '../codec/frames.js';
import type { Link, LinkCloseInfo } from '../link/link.js';
import type { Clock } from '../shared/clock.js';
import type { SessionCore } from './core.js';

/** What the owner of an upgraded link hears about it. */
export interface UpgradedLinkHooks {
  /** The peer sent SWITCH on the link: it is primary now. */
  switched?(): void;
  /** SWITCH_ACK arrived on the link: the peer sends on it too. */
  acked?(): void;
  /** The link closed (died, idled out, was replaced, or the peer switched back); called once. */
  closed?(info: LinkCloseInfo): void;
}

/** What SessionLinks tells its session. */
export interface SessionLinksEvents {
  /**
   * A frame arrived on one of the links at `at` (the session clock's time, already read for the idle
   * check); the session decodes it and hands SWITCH and SWITCH_ACK back to `switchFrame`.
   */
  frame(bytes: Uint8Array, link: Link, at: number): void;
  /** The base link closed (the upgraded one was closed with it): the session must resume or end. */
  baseLost(info: LinkCloseInfo): void;
  /** The link this side sends on changed (a SWITCH either way, or a fallback). */
  primary?(link: Link, previous: Link): void;
  /** A SWITCH carried a sequence number never sent (`sequence_invalid`). */
  invalid(message: string): void;
}

/** SWITCH or SWITCH_ACK as decoded by the codec. */
export type SwitchFrame = {
  kind: typeof FrameKind.Switch | typeof FrameKind.SwitchAck;
  lastReceived: number;
};

interface Upgraded {
  link: Link;
  hooks: UpgradedLinkHooks;
}

/**
 * Tracks a session's links (WIRE.md §3.6). The session core sends on exactly one of them, the
 * primary; frames from any of them reach the session. `switchTo` moves sending to the upgraded
 * link and says SWITCH there; SWITCH from the peer on a link makes it primary (resending what the
 * peer lacks there) and is answered with SWITCH_ACK. When the upgraded link dies while primary,
 * sending falls back to the base link at once, with a SWITCH there so that the peer follows.
 *
 * No reliable frame is lost, duplicated or reordered: each link is ordered and carries a contiguous
 * run of sequence numbers starting at or below the receiver's next one (a switch resends from the
 * peer's acknowledged point), so the receiver only ever sees its next number or one it already
 * delivered, which it drops.
 */
export class SessionLinks {
  private baseLink: Link | null = null;
  private upgraded: Upgraded | null = null;
  private primaryLink: Link | null = null;
  /** When a frame last arrived on the base link and on the upgraded link (plain fields: no lookup per frame). */
  private baseSeenAt = 0;
  private upgradedSeenAt = 0;

  constructor(
    private readonly core: SessionCore,
    private readonly clock: Clock,
    private readonly events: SessionLinksEvents,
  ) {}

  /** The link this side sends on, or null while it has none. */
  get primary(): Link | null {
    return this.primaryLink;
  }

  /** The link that carried HELLO (and carries signaling). */
  get base(): Link | null {
    return this.baseLink;
  }

  /** The upgraded link, whether or not it is primary yet; null when none. */
  get upgradedLink(): Link | null {
    return this.upgraded?.link ?? null;
  }

  /** When the last frame arrived on the primary link (for idle checks). */
  get lastFrameAt(): number {
    const primary = this.primaryLink;
    if (primary === null) return 0;
    return primary === this.baseLink ? this.baseSeenAt : this.upgradedSeenAt;
  }

  /**
   * Makes `link` the base and primary link (a new session, or a resume). Previous links are closed
   * with `session_replaced`. The caller attaches the core.
   */
  setBase(link: Link): void {
    this.closeUpgraded('session_replaced', 'session resumed on another link');
    const old = this.baseLink;
    if (old && old !== link) {
      this.forget(old);
      old.close('session_replaced', 'session resumed on another link');
    }
    this.baseLink = link;
    this.primaryLink = link;
    this.wire(link);
  }

  /**
   * Adds an upgraded link (e.g. WebRTC) beside the base link: its frames reach the session at once;
   * this side sends on it after `switchTo` or the peer's SWITCH. A previous upgraded link is closed.
   * Returns false (and closes `link`) when there is no base link or `link` is closed.
   */
  addUpgraded(link: Link, hooks: UpgradedLinkHooks = {}): boolean {
    if (!this.baseLink || !link.isOpen) {
      link.close('link_closed', 'session has no base link');
      return false;
    }
    this.closeUpgraded('session_replaced', 'another upgraded link');
    this.upgraded = { link, hooks };
    this.wire(link);
    return true;
  }

  /** Sends on the upgraded link from now on: SWITCH there, then the unacknowledged frames. */
  switchToUpgraded(): boolean {
    const up = this.upgraded;
    const previous = this.primaryLink;
    if (!up?.link.isOpen || !previous) return false;
    up.link.send('reliable', encodeFrame({ kind: FrameKind.Switch, lastReceived: this.core.lastReceived }));
    this.primaryLink = up.link;
    this.touch(up.link);
    this.core.switchTo(up.link);
    if (previous !== up.link) this.events.primary?.(up.link, previous);
    return true;
  }

  /** Closes the upgraded link (falling back to the base link first when it was primary). */
  closeUpgraded(code: LinkCloseInfo['code'], reason: string): void {
    this.upgraded?.link.close(code, reason); // its onclose runs the fallback and the hook
  }

  /** Sends a frame outside the sequencing (CLOSE) on the primary link. */
  sendControl(frame: Uint8Array): void {
    const link = this.primaryLink;
    if (link?.isOpen) link.send('reliable', frame);
  }

  /** Closes every link (the session ended or was dropped); the upgraded link's hooks still hear of it. */
  closeAll(code: LinkCloseInfo['code'], reason: string): void {
    const base = this.baseLink;
    this.baseLink = null;
    this.primaryLink = null;
    this.closeUpgraded(code, reason);
    if (base) {
      this.forget(base);
      base.close(code, reason);
    }
  }

  /**
   * Checks the primary link for frames in the last `idleMs`. An idle upgraded link is closed with
   * `idle_timeout` and sending falls back to the base link (returns false); an idle base link
   * returns true (the caller treats the session's link as lost).
   */
  checkIdle(now: number, idleMs: number): boolean {
    const primary = this.primaryLink;
    if (!primary || now - this.lastFrameAt <= idleMs) return false;
    if (primary === this.baseLink) return true;
    this.closeUpgraded('idle_timeout', 'no frames received');
    return false;
  }

  /**
   * Handles SWITCH or SWITCH_ACK that arrived on `link`. SWITCH makes `link` primary, resends there
   * what the peer lacks and answers SWITCH_ACK; SWITCH on the base link while an upgraded link
   * exists closes the upgraded one (the peer fell back). SWITCH_ACK counts as an ACK.
   */
  switchFrame(frame: SwitchFrame, link: Link): void {
    const { lastReceived } = frame;
    const up = this.upgraded;
    if (frame.kind === FrameKind.SwitchAck) {
      this.core.receive({ kind: FrameKind.Ack, lastReceived }, 0);
      if (up && link === up.link) up.hooks.acked?.();
      return;
    }
    const previous = this.primaryLink;
    try {
      this.core.switchTo(link, lastReceived);
    } catch (err) {
      this.events.invalid(err instanceof Error ? err.message : 'bad SWITCH');
      return;
    }
    this.primaryLink = link;
    link.send('reliable', encodeFrame({ kind: FrameKind.SwitchAck, lastReceived: this.core.lastReceived }));
    if (previous && previous !== link) this.events.primary?.(link, previous);
    if (up && link === up.link) up.hooks.switched?.();
    else if (up && link === this.baseLink) up.link.close('normal', 'peer switched back');
  }

  private wire(link: Link): void {
    this.touch(link);
    link.onframe = (bytes) => {
      const at = this.clock.now();
      if (link === this.baseLink) this.baseSeenAt = at;
      else this.upgradedSeenAt = at;
      this.events.frame(bytes, link, at);
    };
    link.onclose = (info) => this.onClose(link, info);
  }

  /** Restarts the idle clock of `link` (it just became primary). */
  private touch(link: Link): void {
    if (link === this.baseLink) this.baseSeenAt = this.clock.now();
    else if (link === this.upgraded?.link) this.upgradedSeenAt = this.clock.now();
  }

  private forget(link: Link): void {
    link.onframe = null;
    link.onclose = null;
  }

  private onClose(link: Link, info: LinkCloseInfo): void {
    this.forget(link);
    const up = this.upgraded;
    if (up && link === up.link) {
      this.upgraded = null;
      const base = this.baseLink;
      if (this.primaryLink === link && base?.isOpen) {
        // Fall back at once; the peer hears SWITCH on the base link and follows.
        this.primaryLink = base;
        this.touch(base);
        base.send('reliable', encodeFrame({ kind: FrameKind.Switch, lastReceived: this.core.lastReceived }));
        this.core.switchTo(base);
        this.events.primary?.(base, link);
      } else if (this.primaryLink === link) {
        this.primaryLink = null;
      }
      up.hooks.closed?.(info);
      return;
    }
    if (link === this.baseLink) {
      this.baseLink = null;
      this.primaryLink = null;
      this.closeUpgraded('link_closed', 'base link lost');
      this.events.baseLost(info);
    }
  }
}
