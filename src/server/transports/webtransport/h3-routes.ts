// How an HTTP/3 connection reads the streams its peer opens: requests, WebTransport streams, control and QPACK streams.
import { NetloomError } from '../../../codec/errors.js';
import { responseStatus } from './connect-request.js';
import {
  FRAME_CANCEL_PUSH,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_MAX_PUSH_ID,
  FRAME_SETTINGS,
  H3FrameParser,
  parseIdPayload,
} from './h3-frames.js';
import { decodeFieldSection } from './qpack.js';
import { type H3Settings, parseSettings } from './settings.js';
import { StreamPrefix } from './varint.js';
import type { WtSession } from './wt-session.js';

export const STREAM_CONTROL = 0x00;
export const STREAM_PUSH = 0x01;
export const STREAM_QPACK_ENCODER = 0x02;
export const STREAM_QPACK_DECODER = 0x03;
export const STREAM_WEBTRANSPORT_UNI = 0x54;

/** Where one QUIC stream's events go. */
export interface Route {
  data(bytes: Uint8Array, fin: boolean): void;
  reset(code: number): void;
}

/** What the routes need from their connection (H3Connection implements it). */
export interface RouteHost {
  readonly isClient: boolean;
  readonly routes: Map<number, Route>;
  readonly maxHeaderListBytes: number;
  readonly maxFrameBytes: number;
  readonly peerSettings: H3Settings | null;
  settingsReceived(settings: H3Settings): void;
  goawayReceived(): void;
  /** Throws `h3_stream_error` when the peer opens a second stream of a kind it may open once. */
  claimCriticalStream(name: string): void;
  /** Routes the rest of a WebTransport stream (its header read) to its session; returns the forwarder. */
  attachWtStream(
    streamId: number,
    bidirectional: boolean,
    sessionId: number,
  ): (data: Uint8Array, fin: boolean) => void;
  /** Answers a request's HEADERS; returns the session it opened, if any. */
  handleRequest(id: number, block: Uint8Array): WtSession | null;
}

/** A client-initiated bidirectional stream at the server: an HTTP/3 request, or a WebTransport stream. */
export function requestRoute(host: RouteHost, id: number): Route {
  let forward: ((data: Uint8Array, fin: boolean) => void) | null = null;
  let session: WtSession | null = null;
  let headersSeen = false;
  let chunkFin = false;
  const parser = new H3FrameParser(
    {
      frame: (type, payload) => {
        if (type !== FRAME_HEADERS)
          throw new NetloomError('h3_frame_unexpected', `frame ${type} on a request stream`);
        if (headersSeen) return; // trailers: ignored
        headersSeen = true;
        session = host.handleRequest(id, payload);
      },
      data: (bytes) => {
        if (!headersSeen) throw new NetloomError('h3_frame_unexpected', 'DATA before HEADERS');
        session?.receiveConnectData(bytes);
      },
      webtransport: (sessionId, rest) => {
        forward = host.attachWtStream(id, true, sessionId);
        if (rest.length > 0 || chunkFin) forward(rest, chunkFin);
      },
    },
    { maxFrameBytes: host.maxHeaderListBytes, webtransportSignal: true },
  );
  return {
    data: (bytes, fin) => {
      if (forward) return forward(bytes, fin);
      chunkFin = fin;
      parser.push(bytes);
      if (forward || !fin) return;
      host.routes.delete(id);
      if (!parser.idle) throw new NetloomError('h3_frame_error', 'request stream ended inside a frame');
      (session as WtSession | null)?.receiveConnectFin();
    },
    reset: () => {
      host.routes.delete(id);
      (session as WtSession | null)?.terminate('CONNECT stream reset', false);
    },
  };
}

/**
 * The client's own CONNECT stream: the response HEADERS (interim 1xx ones skipped) go to `respond`, which
 * returns the session on a 200; then capsules in DATA frames. `refuse` learns of a stream that ends or is
 * reset before any response.
 */
export function responseRoute(
  host: RouteHost,
  id: number,
  respond: (status: number) => WtSession | null,
  refuse: (err: NetloomError) => void,
): Route {
  let session: WtSession | null = null;
  let answered = false;
  const parser = new H3FrameParser(
    {
      frame: (type, payload) => {
        if (type !== FRAME_HEADERS)
          throw new NetloomError('h3_frame_unexpected', `frame ${type} on a request`);
        if (answered) return; // trailers
        const status = responseStatus(decodeFieldSection(payload, host.maxHeaderListBytes));
        if (status >= 100 && status < 200) return;
        answered = true;
        session = respond(status);
      },
      data: (bytes) => session?.receiveConnectData(bytes),
    },
    { maxFrameBytes: host.maxHeaderListBytes },
  );
  return {
    data: (bytes, fin) => {
      parser.push(bytes);
      if (!fin) return;
      host.routes.delete(id);
      if (session) (session as WtSession).receiveConnectFin();
      else if (!answered)
        refuse(new NetloomError('wt_session_refused', 'request stream ended without a response'));
    },
    reset: () => {
      host.routes.delete(id);
      if (session) (session as WtSession).terminate('CONNECT stream reset', false);
      else if (!answered) refuse(new NetloomError('wt_session_refused', 'request stream reset'));
    },
  };
}

/** A server-initiated bidirectional stream at the client: only WebTransport streams are valid. */
export function serverBidiRoute(host: RouteHost, id: number): Route {
  let forward: ((data: Uint8Array, fin: boolean) => void) | null = null;
  let chunkFin = false;
  const parser = new H3FrameParser(
    {
      frame: () => {
        throw new NetloomError('h3_stream_error', 'server-initiated request stream');
      },
      data: () => {
        throw new NetloomError('h3_stream_error', 'server-initiated request stream');
      },
      webtransport: (sessionId, rest) => {
        forward = host.attachWtStream(id, true, sessionId);
        if (rest.length > 0 || chunkFin) forward(rest, chunkFin);
      },
    },
    { maxFrameBytes: 0, webtransportSignal: true },
  );
  return {
    data: (bytes, fin) => {
      if (forward) return forward(bytes, fin);
      chunkFin = fin;
      parser.push(bytes);
      if (fin && !forward) host.routes.delete(id);
    },
    reset: () => host.routes.delete(id),
  };
}

/** A peer's unidirectional stream: control, QPACK, WebTransport, or an unknown type (discarded). */
export function uniRoute(host: RouteHost, id: number): Route {
  const prefix = new StreamPrefix(1);
  let forward: ((data: Uint8Array, fin: boolean) => void) | null = null;
  let onreset: (code: number) => void = () => host.routes.delete(id);
  const critical = (name: string) => {
    host.claimCriticalStream(name);
    onreset = () => {
      throw new NetloomError('h3_stream_error', `${name} stream reset`);
    };
  };
  const route: Route = {
    data: (bytes, fin) => {
      if (forward) return forward(bytes, fin);
      const rest = prefix.push(bytes);
      if (rest === null) {
        if (fin) host.routes.delete(id);
        return;
      }
      const type = prefix.values[0];
      if (type === STREAM_CONTROL) {
        critical('control');
        const parser = controlParser(host);
        forward = (chunk, end) => {
          parser.push(chunk);
          if (end) throw new NetloomError('h3_stream_error', 'control stream closed');
        };
      } else if (type === STREAM_QPACK_ENCODER || type === STREAM_QPACK_DECODER) {
        critical(type === STREAM_QPACK_ENCODER ? 'encoder' : 'decoder');
        forward = (_chunk, end) => {
          if (end) throw new NetloomError('h3_stream_error', 'QPACK stream closed');
        };
      } else if (type === STREAM_WEBTRANSPORT_UNI) {
        const sessionPrefix = new StreamPrefix(1);
        forward = (chunk, end) => {
          const after = sessionPrefix.push(chunk);
          if (after === null) return;
          forward = host.attachWtStream(id, false, sessionPrefix.values[0]);
          const target = host.routes.get(id);
          if (target && target !== route) onreset = (code) => target.reset(code);
          if (after.length > 0 || end) forward(after, end);
        };
      } else if (type === STREAM_PUSH) {
        throw new NetloomError('h3_stream_error', 'push stream without MAX_PUSH_ID');
      } else {
        // unknown or grease stream type: discarded
        forward = (_chunk, end) => {
          if (end) host.routes.delete(id);
        };
      }
      if (rest.length > 0 || fin) forward(rest, fin);
    },
    reset: (code) => onreset(code),
  };
  return route;
}

function controlParser(host: RouteHost): H3FrameParser {
  return new H3FrameParser(
    {
      frame: (type, payload) => {
        if (!host.peerSettings) {
          if (type !== FRAME_SETTINGS)
            throw new NetloomError('h3_settings_error', 'control stream without SETTINGS first');
          host.settingsReceived(parseSettings(payload));
          return;
        }
        if (type === FRAME_GOAWAY) {
          parseIdPayload(payload);
          host.goawayReceived();
        } else if (type === FRAME_MAX_PUSH_ID && !host.isClient) {
          parseIdPayload(payload);
        } else if (type !== FRAME_CANCEL_PUSH) {
          throw new NetloomError('h3_frame_unexpected', `frame ${type} on the control stream`);
        }
      },
      data: () => {
        throw new NetloomError('h3_frame_unexpected', 'DATA on the control stream');
      },
    },
    { maxFrameBytes: host.maxFrameBytes },
  );
}
