// The datachannel side of the WebRTC link: the RTCDataChannel shape both ends use, their set-up, close notices, closing them.

/** An event handler property typed so that the DOM's and werift's handler types both fit (bivariant). */
export type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'] | null | undefined;

/**
 * The part of RTCDataChannel the link uses. The browser's RTCDataChannel and werift's both satisfy it
 * (werift hands messages over as Buffers, browsers as ArrayBuffers once `binaryType` is 'arraybuffer').
 */
export interface DataChannelLike {
  readonly label: string;
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType?: string;
  send(data: never): void;
  close(): void;
  onopen?: Handler<unknown>;
  onclose?: Handler<unknown>;
  onerror?: Handler<unknown>;
  onmessage?: Handler<{ data: unknown }>;
  addEventListener(type: 'bufferedamountlow', listener: () => void): void;
  removeEventListener(type: 'bufferedamountlow', listener: () => void): void;
}

/** The channel set-up both ends use: pre-negotiated, so no DCEP round trip and no open race. */
export const DATACHANNEL_INIT = {
  reliable: { negotiated: true, id: 0, ordered: true },
  unreliable: { negotiated: true, id: 1, ordered: false, maxRetransmits: 0 },
} as const;

/** Longest close reason sent in a close notice, in UTF-8 bytes (as for WebSocket close reasons). */
export const MAX_REASON_BYTES = 123;
/** Longest text message accepted (only close notices travel as text). */
export const MAX_NOTICE_CHARS = 1_024;

/** The text message that closes a link: `{"close":code,"reason":...}`, the reason cut to MAX_REASON_BYTES. */
export function encodeNotice(code: string, reason: string): string {
  return JSON.stringify({ close: code, reason: truncateUtf8(reason, MAX_REASON_BYTES) });
}

/** Parses a close notice; null when `text` is anything else. */
export function parseNotice(text: string): { code: string; reason: string } | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return null;
    const { close, reason } = value as { close?: unknown; reason?: unknown };
    if (typeof close !== 'string' || !/^[a-z_]{1,40}$/.test(close)) return null;
    if (reason !== undefined && typeof reason !== 'string') return null;
    return { code: close, reason: reason ?? '' };
  } catch {
    return null;
  }
}

/** `text` cut to at most `maxBytes` UTF-8 bytes, without splitting a character. */
function truncateUtf8(text: string, maxBytes: number): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).byteLength <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const size = encoder.encode(ch).byteLength;
    if (bytes + size > maxBytes) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/**
 * Closes both datachannels so that the peer learns of it, within `graceMs`: waits for the send buffers and
 * the link's own queue (`unsent`) to drain (werift would otherwise reset the stream ahead of queued
 * messages, the close notice among them),
 * closes the channels (an SCTP stream reset the peer sees as a channel close), and waits for the reliable
 * one to finish closing. Resolves in at most about `graceMs`; never rejects. The caller then closes the
 * peer connection. Polls `bufferedAmount` because werift has no `onbufferedamountlow` property.
 */
export async function closeDataChannels(
  channels: DataChannelLike[],
  graceMs: number,
  unsent: () => number = () => 0,
): Promise<void> {
  const deadline = Date.now() + graceMs;
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
  const busy = () => unsent() > 0 || channels.some((c) => c.readyState === 'open' && c.bufferedAmount > 0);
  while (channels.every((c) => c.readyState === 'open') && busy() && Date.now() < deadline) {
    await sleep(Math.min(10, deadline - Date.now()));
  }
  const closed = channels.map((c) =>
    c.readyState === 'closed'
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          c.onclose = () => resolve();
        }),
  );
  for (const c of channels) {
    c.onmessage = null;
    c.onerror = null;
    try {
      c.close();
    } catch {
      // already closing
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(closed),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    }),
  ]);
  clearTimeout(timer);
  for (const c of channels) c.onclose = null;
}
