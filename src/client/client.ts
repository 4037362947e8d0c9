// Client: asks the control plane for seats over HTTP and joins rooms over one session per server node.
import { isErrorCode, NetloomError } from '../codec/errors.js';
import type { Link } from '../link/link.js';
import type { SessionCoreOptions } from '../session/core.js';
import { type Clock, systemClock } from '../shared/clock.js';
import { type ReconnectOptions, ServerConnection } from './connection.js';
import { type AnyClientProtocol, assertRoomProtocol, Room } from './room.js';
import { connectWebSocket, type WebSocketConstructor } from './transports/websocket.js';

/** What the control plane answers to a join request. */
export interface JoinTicket {
  roomId: string;
  roomType: string;
  seat: string;
  expiresAt: number;
  transports: { websocket: string };
}

export interface ClientOptions {
  /** WebSocket constructor; defaults to `globalThis.WebSocket`. On Node 20 pass `WebSocket` from the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** fetch implementation (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** URL prefix of the server's netloom routes (default `/netloom`). */
  prefix?: string;
  /** Headers sent with control-plane requests (e.g. an Authorization bearer token). */
  headers?: Record<string, string>;
  reconnect?: Partial<ReconnectOptions>;
  /** Time allowed for opening a link and completing the handshake (default 5,000 ms). */
  connectTimeoutMs?: number;
  /** Session tuning (resend buffer bound, ack cadence). */
  session?: Partial<
    Pick<SessionCoreOptions, 'maxBufferBytes' | 'ackEveryFrames' | 'ackDelayMs' | 'pingIntervalMs'>
  >;
  clock?: Clock;
  /**
   * Wraps every link the client opens, e.g. `(link) => conditionLink(link, { latencyMs: 80, loss: 0.05 })`
   * from `netloom/client` to try a game under bad network conditions, or to kill links in tests.
   */
  wrapLink?: (link: Link) => Link;
}

export interface JoinOptions<P> {
  /** The protocol shared with the server's room type. */
  protocol: P;
}

const DEFAULT_RECONNECT: ReconnectOptions = { baseDelayMs: 250, maxDelayMs: 4_000, windowMs: 30_000 };

/** Entry point of the browser (and Node) client. One Client holds one session per server node. */
export class Client {
  private readonly base: URL;
  private readonly prefix: string;
  private readonly connections = new Map<string, ServerConnection>();

  constructor(
    url: string,
    private readonly options: ClientOptions = {},
  ) {
    this.base = new URL(url);
    this.prefix = (options.prefix ?? '/netloom').replace(/\/$/, '');
  }

  /** Joins the oldest room of `type` with a free seat, or creates one. */
  async joinOrCreate<P extends AnyClientProtocol>(
    type: string,
    joinData: unknown,
    options: JoinOptions<P>,
  ): Promise<Room<P>> {
    assertRoomProtocol(options.protocol);
    const ticket = await this.request(`${this.prefix}/rooms/${encodeURIComponent(type)}/join-or-create`, {
      joinData,
    });
    return this.join(ticket, options);
  }

  /** Joins a room by id (for example one a friend shared). */
  async joinById<P extends AnyClientProtocol>(
    roomId: string,
    joinData: unknown,
    options: JoinOptions<P>,
  ): Promise<Room<P>> {
    assertRoomProtocol(options.protocol);
    const ticket = await this.request(`${this.prefix}/rooms/${encodeURIComponent(roomId)}/join`, {
      joinData,
    });
    return this.join(ticket, options);
  }

  /** Takes a seat reserved elsewhere (e.g. by your backend with `server.netloom.seats.reserve`). */
  join<P extends AnyClientProtocol>(ticket: JoinTicket, options: JoinOptions<P>): Promise<Room<P>> {
    const wsUrl = new URL(ticket.transports.websocket, this.base);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    const room = new Room<P>(options.protocol, this.connection(wsUrl.href));
    return room.start(ticket.seat);
  }

  /** Ends every session (rooms leave with code `normal`). */
  close(): void {
    for (const connection of [...this.connections.values()]) connection.close();
    this.connections.clear();
  }

  private connection(wsUrl: string): ServerConnection {
    const existing = this.connections.get(wsUrl);
    if (existing) return existing;
    const { options } = this;
    const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    const connection = new ServerConnection({
      connect: async () => {
        const link = await connectWebSocket(wsUrl, {
          WebSocket: options.WebSocket,
          timeoutMs: connectTimeoutMs,
        });
        return options.wrapLink ? options.wrapLink(link) : link;
      },
      clock: options.clock ?? systemClock,
      reconnect: { ...DEFAULT_RECONNECT, ...options.reconnect },
      handshakeTimeoutMs: connectTimeoutMs,
      core: options.session ?? {},
      random: Math.random,
    });
    connection.onempty = () => {
      if (this.connections.get(wsUrl) === connection) this.connections.delete(wsUrl);
    };
    this.connections.set(wsUrl, connection);
    return connection;
  }

  private async request(path: string, body: unknown): Promise<JoinTicket> {
    const doFetch = this.options.fetch ?? globalThis.fetch;
    if (!doFetch) throw new NetloomError('transport_unavailable', 'no fetch available');
    let response: Response;
    try {
      response = await doFetch(new URL(path, this.base), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.options.headers },
        body: JSON.stringify(body),
      });
    } catch (err) {
      throw new NetloomError(
        'link_error',
        `control plane unreachable: ${err instanceof Error ? err.message : err}`,
      );
    }
    const json = (await response.json().catch(() => null)) as
      | (JoinTicket & { code?: string; message?: string })
      | null;
    if (!response.ok || !json) {
      const code = json?.code && isErrorCode(json.code) ? json.code : 'internal_error';
      throw new NetloomError(code, json?.message ?? `HTTP ${response.status}`);
    }
    return json;
  }
}
