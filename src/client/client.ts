// Client: asks the control plane for seats over HTTP and joins rooms over one session per server node.

import type {
  AnyEndpoints,
  EndpointDescription,
  EndpointName,
  EndpointRequest,
  EndpointResponse,
} from '../codec/endpoints.js';
import { NetloomError } from '../codec/errors.js';
import { MessageKind } from '../codec/frames.js';
import { systemClock } from '../shared/clock.js';
import { Emitter } from '../shared/emitter.js';
import type { MatchTicketRequest } from '../shared/matchmaking.js';
import type { ClientEvents, ClientOptions, CreateOptions, JoinOptions, JoinTicket } from './client-types.js';
import { type ReconnectOptions, ServerConnection } from './connection.js';
import { controlRequest } from './http.js';
import { Match, type MatchOptions, relayedProtocol } from './match.js';
import { type MatchmakeOptions, type MatchResult, matchmake } from './matchmaker.js';
import { type AnyNotices, assertNotices, receivePush } from './push.js';
import { type AnyClientProtocol, assertRoomProtocol, Room } from './room.js';
import type { RoomListing } from './rooms-api.js';
import { roomListQuery } from './rooms-api.js';
import { type CallOptions, RpcClient } from './rpc.js';
import { createClientPeer, webRtcAvailable } from './transports/webrtc.js';
import { connectWebSocket } from './transports/websocket.js';
import { connectWebTransport, webTransportAvailable } from './transports/webtransport.js';
import type { UpgradeTransport } from './upgrade.js';

export type {
  ClientEvents,
  ClientOptions,
  ClientWebRtcOptions,
  ClientWebTransportOptions,
  CreateOptions,
  JoinOptions,
  JoinTicket,
} from './client-types.js';

const DEFAULT_RECONNECT: ReconnectOptions = { baseDelayMs: 250, maxDelayMs: 4_000, windowMs: 30_000 };

/** Entry point of the browser (and Node) client. One Client holds one session per server node. */
export class Client<E extends AnyEndpoints = AnyEndpoints, N extends AnyNotices = AnyNotices> {
  private readonly base: URL;
  private readonly prefix: string;
  private readonly connections = new Map<string, ServerConnection>();
  private readonly clientEvents = new Emitter<Record<string, unknown>>();
  private readonly rpc: RpcClient;

  /**
   * Listens to client-level events: `notice` is a warning or notice from a server
   * (`message_rate_exceeded`: slow down or be disconnected; `server_shutdown`: the server is going away).
   * Returns a function that removes the listener.
   */
  on<K extends keyof ClientEvents<N> & string>(event: K, fn: (arg: ClientEvents<N>[K]) => void): () => void {
    return this.clientEvents.on(event, fn as (arg: unknown) => void);
  }

  /**
   * Calls a server endpoint: over the open session when there is one (answers come back on it), else
   * over HTTP (`POST {prefix}/rpc/:name`, with the client's headers). Rejects with a NetloomError:
   * `endpoint_unknown`, `requirement_failed`, `rpc_timeout`, `rpc_failed`, a codec code, or the code
   * the handler threw.
   */
  call<K extends EndpointName<E>>(
    name: K,
    data: EndpointRequest<E, K>,
    options?: CallOptions,
  ): Promise<EndpointResponse<E, K>> {
    return this.rpc.call(name, data, options) as Promise<EndpointResponse<E, K>>;
  }

  /** The server's endpoints and their schemas (`GET {prefix}/rpc`). */
  describeEndpoints(): Promise<EndpointDescription[]> {
    return this.rpc.describe();
  }

  constructor(
    url: string,
    private readonly options: ClientOptions<E, N> = {},
  ) {
    this.base = new URL(url);
    this.prefix = (options.prefix ?? '/netloom').replace(/\/$/, '');
    if (options.notices) assertNotices(options.notices);
    this.rpc = new RpcClient({
      endpoints: options.endpoints,
      clock: options.clock ?? systemClock,
      timeoutMs: options.rpcTimeoutMs ?? 10_000,
      http: () => ({ ...this.http(), prefix: this.prefix }),
      connection: () => {
        for (const c of this.connections.values()) if (c.usable) return c;
        return undefined;
      },
    });
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
      ...(options.tags ? { tags: options.tags } : {}),
    });
    return this.join(ticket, options);
  }

  /** Creates a room of `type` and joins it (the server reserves the creator's seat in the same request). */
  async create<P extends AnyClientProtocol>(
    type: string,
    joinData: unknown,
    options: CreateOptions<P>,
  ): Promise<Room<P>> {
    assertRoomProtocol(options.protocol);
    const { protocol: _protocol, tags, private: isPrivate, data, options: createOptions } = options;
    const ticket = await this.request(`${this.prefix}/rooms`, {
      type,
      joinData,
      ...(tags ? { tags } : {}),
      ...(isPrivate !== undefined ? { private: isPrivate } : {}),
      ...(data !== undefined ? { data } : {}),
      ...(createOptions !== undefined ? { options: createOptions } : {}),
    });
    return this.join(ticket, options);
  }

  /** Public rooms (of `type`, carrying every tag in `tags`) with their player counts, oldest first. */
  async getAvailableRooms(type?: string, tags?: Record<string, string>): Promise<RoomListing[]> {
    const reply = await controlRequest<{ rooms: RoomListing[] }>(
      this.http(),
      'GET',
      `${this.prefix}/rooms${roomListQuery(type, tags)}`,
    );
    return reply.rooms;
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

  /**
   * Creates a relayed match (the server's `relayedRoom()` type, `match` by default) and joins it;
   * share `match.id` so others can `joinMatch` it.
   */
  async createMatch(options: MatchOptions = {}): Promise<Match> {
    const room = await this.create(options.type ?? 'match', options.joinData, {
      protocol: relayedProtocol,
      private: true,
    });
    return new Match(room);
  }

  /** Joins a relayed match by id. An ended match is refused with `match_ended`. */
  async joinMatch(matchId: string, options: MatchOptions = {}): Promise<Match> {
    return new Match(await this.joinById(matchId, options.joinData, { protocol: relayedProtocol }));
  }

  /**
   * Files a matchmaking ticket and resolves with your seat once a match forms; then
   * `client.join(result.seat, { protocol })`. Aborting `options.signal` cancels the ticket.
   */
  matchmake(request: MatchTicketRequest, options: MatchmakeOptions = {}): Promise<MatchResult> {
    return matchmake({ ...this.http(), prefix: this.prefix }, request, options);
  }

  /**
   * Files a matchmaking ticket and joins the match it lands in: `matchmake` then `join` in one call.
   * The way back into play after a room ends with `room_lost` (its server node died):
   * `room.on('leave', ({ code }) => code === 'room_lost' && client.matchmakeAndJoin(request, { protocol }))`.
   */
  async matchmakeAndJoin<P extends AnyClientProtocol>(
    request: MatchTicketRequest,
    options: JoinOptions<P> & MatchmakeOptions,
  ): Promise<Room<P>> {
    assertRoomProtocol(options.protocol);
    const { protocol, ...matchmakeOptions } = options;
    const result = await this.matchmake(request, matchmakeOptions);
    return this.join(result.seat, { ...options, protocol });
  }

  /** Whether the control plane says `roomId` was lost with its node (410 `room_lost`). */
  private async roomLost(roomId: string): Promise<boolean> {
    try {
      await controlRequest(this.http(), 'GET', `${this.prefix}/rooms/${encodeURIComponent(roomId)}`);
      return false;
    } catch (err) {
      return err instanceof NetloomError && err.code === 'room_lost';
    }
  }

  /** Takes a seat reserved elsewhere (e.g. by your backend with `server.netloom.seats.reserve`). */
  join<P extends AnyClientProtocol>(ticket: JoinTicket, options: JoinOptions<P>): Promise<Room<P>> {
    const base = ticket.url ? new URL(ticket.url) : this.base;
    const wsUrl = new URL(ticket.transports.websocket, base);
    wsUrl.protocol = wsUrl.protocol === 'https:' || wsUrl.protocol === 'wss:' ? 'wss:' : 'ws:';
    const room = new Room<P>(options.protocol, this.connection(wsUrl.href, ticket.transports, base));
    return room.start(ticket.seat);
  }

  /** Ends every session (rooms leave with code `normal`). */
  close(): void {
    for (const connection of [...this.connections.values()]) connection.close();
    this.connections.clear();
  }

  private connection(wsUrl: string, offered: JoinTicket['transports'], base: URL): ServerConnection {
    const existing = this.connections.get(wsUrl);
    if (existing) return existing;
    const { options } = this;
    const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    const webrtc = options.webrtc ?? {};
    const rtc: UpgradeTransport = {
      name: 'webrtc',
      available: () =>
        webrtc.createPeer !== undefined || webRtcAvailable(webrtc.RTCPeerConnection ?? globalRtc()),
      createPeer: (iceServers) =>
        webrtc.createPeer ? webrtc.createPeer(iceServers) : createClientPeer({ ...webrtc, iceServers }),
    };
    const iceServers = offered.webrtc?.iceServers;
    const wt = offered.webtransport;
    const webTransportCtor = options.webtransport?.WebTransport;
    const upgradeTransports: UpgradeTransport[] = [];
    if (wt)
      upgradeTransports.push({
        name: 'webtransport',
        available: () => webTransportAvailable(webTransportCtor ?? globalWebTransport()),
        connect: (token) => {
          const url = new URL(wt.url ?? wt.path, base);
          url.protocol = 'https:';
          if (!wt.url) url.port = String(wt.port);
          url.searchParams.set('session', token);
          return connectWebTransport(url.href, {
            WebTransport: webTransportCtor,
            certificateHashes: wt.certificateHashes,
            timeoutMs: options.upgrade?.timeoutMs,
          });
        },
      });
    if (Array.isArray(iceServers)) upgradeTransports.push(rtc);
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
      roomLost: (roomId) => this.roomLost(roomId),
      peers: { RTCPeerConnection: webrtc.RTCPeerConnection, iceServers: iceServers ?? [] },
      upgrade:
        upgradeTransports.length > 0
          ? {
              transport: upgradeTransports,
              iceServers: iceServers ?? [],
              options: {
                ...options.upgrade,
                ...(options.transports ? { transports: options.transports } : {}),
              },
            }
          : undefined,
    });
    connection.ontransport = (change) => this.clientEvents.emit('transport', change);
    connection.onupgrade = (event) => this.clientEvents.emit('upgrade', event);
    connection.onSessionMessage(MessageKind.Notice, (notice) =>
      this.clientEvents.emit('notice', { code: notice.code, message: notice.message }),
    );
    connection.onSessionMessage(MessageKind.RpcResponse, (m) => this.rpc.response(connection, m));
    connection.onSessionMessage(MessageKind.Push, (m) =>
      receivePush(this.options.notices, m.op, m.payload, (event, value) =>
        this.clientEvents.emit(event, value),
      ),
    );
    connection.onempty = () => {
      if (this.connections.get(wsUrl) === connection) this.connections.delete(wsUrl);
      this.rpc.closed(connection);
    };
    this.connections.set(wsUrl, connection);
    return connection;
  }

  private request(path: string, body: unknown): Promise<JoinTicket> {
    return controlRequest<JoinTicket>(this.http(), 'POST', path, { body });
  }

  private http() {
    return { fetch: this.options.fetch, base: this.base, headers: this.options.headers };
  }
}

/** The page's RTCPeerConnection, if any. */
function globalRtc(): unknown {
  return (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection;
}

function globalWebTransport(): unknown {
  return (globalThis as { WebTransport?: unknown }).WebTransport;
}
