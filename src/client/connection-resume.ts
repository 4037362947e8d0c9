// The client's resume loop: after a link loss, reconnect with backoff and resume the session within the window.
import type { Welcome } from '../codec/frames.js';
import { encodeFrame, FrameKind, WIRE_VERSION } from '../codec/frames.js';
import type { Link } from '../link/link.js';
import type { ConnectionOptions, RoomBinding } from './connection-types.js';
import { asNetloomError, handshake } from './handshake.js';

/** What the resume loop needs of its connection. */
export interface ResumeHost {
  readonly options: ConnectionOptions;
  /** The connection's room memberships, by handle. */
  readonly bindings: Map<number, RoomBinding>;
  /** True while the session is still resuming (neither back on a link nor closed). */
  resuming(): boolean;
  /** The session token and the last sequence received, for the resuming HELLO. */
  sessionToken(): string;
  lastReceived(): number;
  /** Puts the session back on `link` after the server's WELCOME. */
  use(link: Link, welcome: Welcome): void;
  /** Ends every room with `code` and shuts the connection. */
  end(code: string, reason: string): void;
  /** Shuts the connection (its rooms have ended). */
  shutdown(): void;
}

/** Resumes the session on a new link, with backoff, until it succeeds, fails for good or the window ends. */
export async function resumeSession(host: ResumeHost, code: string): Promise<void> {
  const { clock, reconnect, random } = host.options;
  const startedAt = clock.now();
  for (let attempt = 1; host.resuming(); attempt++) {
    for (const b of host.bindings.values()) b.reconnecting({ attempt, code });
    const delay =
      Math.min(reconnect.maxDelayMs, reconnect.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + random() / 2);
    await new Promise<void>((r) => clock.setTimeout(r, attempt === 1 ? delay / 2 : delay));
    if (!host.resuming()) return;
    if (clock.now() - startedAt > reconnect.windowMs) {
      host.end('session_expired', 'could not reconnect in time');
      return;
    }
    try {
      const link = await host.options.connect();
      const hello = encodeFrame({
        kind: FrameKind.Hello,
        version: WIRE_VERSION,
        mode: 'resume',
        sessionToken: host.sessionToken(),
        lastReceived: host.lastReceived(),
      });
      await handshake(link, hello, host.options, (welcome) => {
        if (!host.resuming()) {
          link.close('normal', 'connection closed meanwhile');
          return;
        }
        host.use(link, welcome);
        for (const b of host.bindings.values()) b.reconnected();
      });
      return;
    } catch (err) {
      const e = asNetloomError(err);
      const terminal =
        e.code === 'session_unknown' || e.code === 'session_expired' || e.code === 'sequence_invalid';
      if (terminal || attempt >= 2) await endLostRooms(host);
      if (!host.resuming()) return;
      if (terminal) {
        host.end(e.code, e.message);
        return;
      }
    }
  }
}

/**
 * Ends, with `room_lost`, the rooms the control plane says were lost with their node; shuts the
 * connection when none is left. Without `roomLost` (or when asking fails) nothing changes.
 */
async function endLostRooms(host: ResumeHost): Promise<void> {
  const ask = host.options.roomLost;
  if (!ask) return;
  for (const [handle, binding] of [...host.bindings]) {
    const roomId = binding.roomId?.();
    if (roomId === undefined) continue;
    const lost = await ask(roomId).catch(() => false);
    if (!lost || host.bindings.get(handle) !== binding) continue;
    host.bindings.delete(handle);
    binding.left('room_lost', `room ${roomId} was lost with its server node`);
  }
  if (host.bindings.size === 0 && host.resuming()) host.shutdown();
}
