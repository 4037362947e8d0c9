// Helpers around quiche's binding: its error strings (stream reset/stopped codes), close reasons both ways.
import type { Connection } from './config.js';

/** Largest close reason we send (bytes); longer ones are cut at a character boundary. */
export const MAX_REASON_BYTES = 256;
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: false });

/** How a QUIC connection ended, as `onclose` reports it. */
export type CloseInfo = { code: number; reason: string; local: boolean };

/** Why a closed or draining connection ended: the peer's error, an idle timeout, our own error, or none. */
export function closeInfoOf(conn: Connection): CloseInfo {
  const peer = conn.peerError();
  if (peer) return { code: peer.errorCode, reason: dec.decode(peer.reason), local: false };
  if (conn.isTimedOut()) return { code: 0, reason: 'idle timeout', local: true };
  const local = conn.localError();
  if (local) return { code: local.errorCode, reason: dec.decode(local.reason), local: true };
  return { code: 0, reason: 'closed', local: true };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The code inside quiche's `StreamReset(n)` / `StreamStopped(n)` errors, or null. */
export function streamErrorCode(err: unknown, kind: 'StreamReset' | 'StreamStopped'): number | null {
  const m = new RegExp(`${kind}\\((\\d{1,16})\\)`).exec(errorText(err));
  return m ? Number(m[1]) : null;
}

/** UTF-8 bytes of `reason`, at most MAX_REASON_BYTES, never ending inside a character. */
export function encodeReason(reason: string): Uint8Array {
  const bytes = enc.encode(reason);
  if (bytes.length <= MAX_REASON_BYTES) return bytes;
  let end = MAX_REASON_BYTES;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // back off to the start of the cut character
  return bytes.subarray(0, end);
}
