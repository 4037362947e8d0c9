// src/server/transports/webtransport/quic.ts
export interface QuicConnection {
  /** Stream data arrived (in order per stream); fin: the peer finished sending on it. */
  onstreamdata: ((streamId: number, data: Uint8Array, fin: boolean) => void) | null;
  /** A stream can take more bytes again after writeStream returned less than asked. */
  onstreamwritable: ((streamId: number) => void) | null;
  /** The peer reset its sending side of a stream (RESET_STREAM) or asked us to stop (STOP_SENDING). */
  onstreamreset: ((streamId: number, code: number) => void) | null;
  ondatagram: ((data: Uint8Array) => void) | null;
  onclose: ((info: { code: number; reason: string; local: boolean }) => void) | null;
  readonly isClient: boolean;
  /** Writes as much as flow control allows now; returns the bytes taken (the caller keeps the rest). */
  writeStream(streamId: number, data: Uint8Array, fin?: boolean): number;
  /** Opens a locally initiated stream and returns its id. */
  openStream(bidirectional: boolean): number;
  resetStream(streamId: number, code: number): void;
  /** Queues a datagram; false when it is larger than maxDatagramSize or the send queue is full. */
  sendDatagram(data: Uint8Array): boolean;
  readonly maxDatagramSize: number;
  close(code: number, reason: string): void;
  readonly closed: boolean;
  readonly remote: { host: string; port: number };
}
