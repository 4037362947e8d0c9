// Wires RPC endpoints, session data, middleware, pushes and plugins into the server (one call from plugin.ts).
import type { FastifyInstance } from 'fastify';
import { DEFAULT_CODEC_LIMITS } from '../codec/check.js';
import { BUILTIN_ENDPOINTS, DESCRIBE_ENDPOINT, type EndpointDescription } from '../codec/endpoints.js';
import type { Schema } from '../codec/packcat.js';
import type { Clock } from '../shared/clock.js';
import type { NetloomContext } from './context.js';
import { registerRpcRoutes } from './http/rpc.js';
import type { Logger, Metrics } from './metrics.js';
import { type MessageHooksApi, Middleware } from './middleware.js';
import type { AnyRoomDefinition, NetloomOptions, NetloomServerApi } from './options.js';
import { type NetloomPlugin, PluginHost } from './plugins.js';
import { type NoticeProtocol, Pusher, type SessionFilter, type SessionSelector } from './push.js';
import { RpcDispatcher, type RpcOptions, resolveRpcOptions } from './rpc/dispatch.js';
import { type EndpointDefinition, EndpointRegistry } from './rpc/registry.js';
import type { ServerSession } from './session/server-session.js';
import { type SessionDataApi, SessionDataStore, type SessionRef } from './session-data.js';

/** The part of `app.netloom` this module provides: endpoints, session data, plugins, middleware, pushes. */
export interface NetloomExtensionsApi {
  /**
   * Adds an RPC endpoint. The handler gets the decoded, validated request and the caller (identity,
   * session data); its answer is validated against `response`. Throws `protocol_invalid` for a bad
   * or taken name (`netloom.*` is reserved) or a bad schema.
   */
  endpoint<Req extends Schema, Res extends Schema>(
    name: string,
    definition: EndpointDefinition<Req, Res>,
  ): void;
  /** Every endpoint with its schemas as JSON and its requirements' names (what `GET {prefix}/rpc` serves). */
  describeEndpoints(): EndpointDescription[];
  /** Typed, validated per-session data. */
  readonly sessionData: SessionDataApi;
  /** Listens to changes of one session-data key (the same as `sessionData.on`). */
  onSessionData: SessionDataApi['on'];
  /** Installs a plugin: its rooms, then its install step. */
  use(plugin: NetloomPlugin): Promise<void>;
  /** Names of the installed plugins. */
  plugins(): string[];
  /**
   * Sends a `notices` server message to every live session; returns how many it reached on this
   * node (in a cluster, every other node's sessions get it too).
   */
  broadcast(type: string, message: unknown): number;
  /**
   * Sends a `notices` server message to the live sessions `filter` accepts; returns how many on this
   * node. A function runs here only; a SessionSelector (`{ userIds, sessionIds, data }`) reaches the
   * sessions it selects on every node of a cluster.
   */
  multicast(filter: SessionFilter | SessionSelector, type: string, message: unknown): number;
  /** Sends a `notices` server message to one session; false when it is not live on this node. */
  push(session: SessionRef, type: string, message: unknown): boolean;
}

/** What sessions call back into: RPC requests, middleware, and their start and end. */
export interface SessionExtensionHooks {
  rpc(session: ServerSession, message: Parameters<RpcDispatcher['onSessionRequest']>[1]): void;
  middleware: Middleware;
  opened(session: ServerSession): void;
  ended(session: ServerSession): void;
}

export interface ExtensionsDeps {
  options: NetloomOptions;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
}

export interface Extensions {
  /** Room types of the options and of every plugin: hand this (live) object to the control plane. */
  readonly rooms: Record<string, AnyRoomDefinition>;
  readonly session: SessionExtensionHooks;
  readonly store: SessionDataStore;
  /** The middleware hooks, to merge into `app.netloom.hooks`. */
  readonly hooks: MessageHooksApi;
  /** Server pushes (the cluster hands other nodes' pushes to it and takes this node's from it). */
  readonly pusher: Pusher;
  /** Builds the `app.netloom` members; `server` is read lazily (the API object is made after this). */
  api(server: () => NetloomServerApi, app: FastifyInstance): NetloomExtensionsApi;
  /** Registers the RPC routes and installs the plugins given in the options. */
  register(ctx: NetloomContext): Promise<void>;
}

export function createExtensions(deps: ExtensionsDeps): Extensions {
  const { options, clock, log, metrics } = deps;
  const plugins = new PluginHost(options.rooms, options.plugins ?? []);
  const rooms = plugins.rooms;
  const store = new SessionDataStore(log, metrics);
  const rpcOptions = resolveRpcOptions(options.rpc);
  const registry = new EndpointRegistry(DEFAULT_CODEC_LIMITS);
  const live = new Map<string, ServerSession>();
  const middleware = new Middleware(
    (type, op) => {
      const protocol = Object.hasOwn(rooms, type) ? (rooms[type].protocol as unknown) : undefined;
      const client = (protocol as { client?: { nameOf?: (op: number) => string | undefined } } | undefined)
        ?.client;
      return typeof client?.nameOf === 'function' ? client.nameOf(op) : undefined;
    },
    log,
    metrics,
  );
  let server: () => NetloomServerApi = () => {
    throw new Error('netloom API used before it was built');
  };
  const dispatcher = new RpcDispatcher({
    registry,
    store,
    api: () => server(),
    clock,
    log,
    metrics,
    options: rpcOptions,
  });
  const pusher = new Pusher({
    protocol: options.notices,
    sessions: () => live.values(),
    session: (id) => live.get(id),
    store,
    middleware,
    log,
    metrics,
  });
  if (rpcOptions.introspection) {
    const codec = BUILTIN_ENDPOINTS.get(DESCRIBE_ENDPOINT);
    if (codec) {
      registry.add(
        DESCRIBE_ENDPOINT,
        {
          request: codec.request,
          response: codec.response,
          handler: () => ({
            endpoints: registry.describe().map((e) => ({
              name: e.name,
              hash: e.hash,
              request: JSON.stringify(e.request),
              response: JSON.stringify(e.response),
              requirements: e.requirements,
            })),
          }),
        },
        true,
      );
    }
  }
  const hooks: MessageHooksApi = {
    onMessage: (hook) => middleware.onMessage(hook),
    onSend: (hook) => middleware.onSend(hook),
  };
  let app: FastifyInstance | null = null;

  return {
    rooms,
    store,
    hooks,
    pusher,
    session: {
      rpc: (session, message) => dispatcher.onSessionRequest(session, message),
      middleware,
      opened: (session) => {
        live.set(session.id, session);
        store.open(session.id, session.identity);
      },
      ended: (session) => {
        live.delete(session.id);
        store.close(session.id);
      },
    },
    api(getServer, fastify) {
      server = getServer;
      app = fastify;
      return {
        endpoint: (name, definition) => registry.add(name, definition),
        describeEndpoints: () => registry.describe(),
        sessionData: store,
        onSessionData: (key, fn) => store.on(key, fn),
        use: (plugin) => plugins.use(plugin, getServer(), fastify),
        plugins: () => plugins.names(),
        broadcast: (type, message) => pusher.broadcast(type, message),
        multicast: (filter, type, message) => pusher.multicast(filter, type, message),
        push: (session, type, message) => pusher.push(session, type, message),
      };
    },
    async register(ctx) {
      registerRpcRoutes(ctx, { dispatcher, registry, options: rpcOptions });
      await plugins.installInitial(server(), app ?? ctx.app);
    },
  };
}

/** Options this module reads, merged into NetloomOptions. */
export interface NetloomExtensionOptions {
  /** Plugins installed while the server starts; their `rooms` join the room types. */
  plugins?: NetloomPlugin[];
  /** The protocol of server pushes (`broadcast`/`multicast`); its `server` direction is used. */
  notices?: NoticeProtocol;
  /** RPC limits and introspection (see RpcOptions). */
  rpc?: RpcOptions;
}
