// The client's half of the session handshake: send HELLO on a fresh link, wait for WELCOME or a CLOSE saying why not.
import { type ErrorCode, isErrorCode, NetloomError } from '../codec/errors.js';
import { DEFAULT_FRAME_LIMITS, decodeFrame, type Frame, FrameKind, type Welcome } from '../codec/frames.js';
import type { Link } from '../link/link.js';
import type { Clock } from '../shared/clock.js';

/**
 * Sends HELLO on a fresh link and waits for WELCOME. `accept` runs synchronously on WELCOME, so
 * frames that follow it in the same read are not missed. Rejects with the server's CLOSE code,
 * `handshake_timeout`, `handshake_invalid` or `link_closed`.
 */
export function handshake(
  link: Link,
  hello: Uint8Array,
  options: { clock: Clock; handshakeTimeoutMs: number },
  accept: (welcome: Welcome) => void,
): Promise<void> {
  const { clock } = options;
  return new Promise<void>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      link.close('handshake_timeout', 'no WELCOME');
      reject(new NetloomError('handshake_timeout', 'server did not answer HELLO'));
    }, options.handshakeTimeoutMs);
    link.onclose = (info) => {
      clock.clearTimeout(timer);
      reject(new NetloomError('link_closed', `link closed during handshake: ${info.reason}`));
    };
    link.onframe = (bytes) => {
      clock.clearTimeout(timer);
      link.onframe = null;
      link.onclose = null;
      let frame: Frame;
      try {
        frame = decodeFrame(bytes, DEFAULT_FRAME_LIMITS);
      } catch (err) {
        link.close('handshake_invalid', 'bad WELCOME');
        reject(asNetloomError(err));
        return;
      }
      if (frame.kind === FrameKind.Welcome) {
        try {
          accept(frame);
          resolve();
        } catch (err) {
          reject(asNetloomError(err));
        }
      } else {
        link.close('normal', 'handshake refused');
        reject(
          frame.kind === FrameKind.Close
            ? new NetloomError(codeOf(frame.code), frame.reason)
            : new NetloomError('handshake_invalid', 'expected WELCOME'),
        );
      }
    };
    link.send('reliable', hello);
  });
}

/** A code from the network, kept when netloom knows it, else `internal_error`. */
export function codeOf(code: string): ErrorCode {
  return isErrorCode(code) ? code : 'internal_error';
}

/** Any thrown value as a NetloomError (`link_error` for foreign errors). */
export function asNetloomError(err: unknown): NetloomError {
  if (err instanceof NetloomError) return err;
  return new NetloomError('link_error', err instanceof Error ? err.message : String(err));
}
