// The netloom Fastify plugin: HTTP routes for seats and rooms, the WebSocket endpoint, and the `netloom` decoration.
import { randomBytes } from 'node:crypto';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { NetloomError } from '../codec/errors.js';
import { DEFAULT_FRAME_LIMITS } from '../codec/frames.js';
import { systemClock } from '../shared/clock.js';
import type { NetloomContext } from './context.js';
import { ControlPlane, type SeatReservation } from './control.js';
import { memoryDriver } from './drivers/memory.js';
import { registerRoomRoutes } from './http/rooms.js';
import { Metrics } from './metrics.js';
import type { NetloomOptions, NetloomServerApi } from './options.js';
import { inProcessRunner } from './rooms/room.js';
import { SeatSigner } from './seats.js';
import { SessionManager } from './session/manager.js';
import { WEBSOCKET_LINK_DEFAULTS, WebSocketServerLink } from './transports/websocket.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** netloom's in-process API: rooms, seats, sessions, metrics. */
    netloom: NetloomServerApi;
  }
}

async function netloomPlugin(app: FastifyInstance, options: NetloomOptions): Promise<void> {
  const prefix = (options.prefix ?? '/netloom').replace(/\/$/, '');
  const clock = options.clock ?? systemClock;
  const metrics = new Metrics();
  const nodeId = options.nodeId ?? randomBytes(6).toString('base64url');
  const driver = options.driver ?? memoryDriver();
  const log = app.log;
  const control = new ControlPlane({
    rooms: options.rooms,
    driver,
    runner: options.runner ?? inProcessRunner,
    signer: new SeatSigner(options.seatSecret ?? randomBytes(32)),
    nodeId,
    clock,
    now: options.now ?? Date.now,
    seatTtlMs: options.seatTtlMs ?? 30_000,
    log,
    metrics,
  });
  const frameLimits = { ...DEFAULT_FRAME_LIMITS, ...options.session?.frameLimits };
  const sessions = new SessionManager(
    {
      handshakeTimeoutMs: options.session?.handshakeTimeoutMs ?? 5_000,
      pingIntervalMs: options.session?.pingIntervalMs ?? 2_000,
      idleTimeoutMs: options.session?.idleTimeoutMs ?? 6_000,
      emptySessionMs: options.session?.emptySessionMs ?? 10_000,
      frameLimits,
      core: { maxBufferBytes: options.session?.maxBufferBytes ?? 1 << 20 },
    },
    { clock, log, metrics, join: (sessionId, seat, port) => control.redeem(seat, sessionId, port) },
  );
  const transports = { websocket: `${prefix}/ws` };
  const withTransports = (r: SeatReservation) => ({ ...r, transports });

  const api: NetloomServerApi = {
    nodeId,
    rooms: {
      create: (type, createOptions) => control.create(type, createOptions),
      joinOrCreate: async (type, joinData) => withTransports(await control.joinOrCreate(type, joinData)),
      get: (roomId) => control.get(roomId),
      list: (type) => control.list(type),
      types: () => control.types,
    },
    seats: {
      reserve: async (roomId, reserveOptions = {}) =>
        withTransports(
          await control.reserve(roomId, reserveOptions.joinData, { ttlMs: reserveOptions.ttlMs }),
        ),
    },
    sessions: { count: () => sessions.size },
    metrics: () => ({ ...metrics.snapshot(), sessions: sessions.size }),
  };
  app.decorate('netloom', api);

  if (!app.hasDecorator('websocketServer')) {
    await app.register(websocket, {
      options: { maxPayload: options.websocket?.maxFrameBytes ?? WEBSOCKET_LINK_DEFAULTS.maxFrameBytes },
    });
  }

  const ctx: NetloomContext = {
    app,
    prefix,
    options,
    nodeId,
    clock,
    now: options.now ?? Date.now,
    driver,
    control,
    sessions,
    metrics,
    log,
    api,
    transports,
    authenticate: async (request) => {
      if (!options.authenticate) return undefined;
      const identity = await options.authenticate(request);
      if (!identity) throw new NetloomError('auth_required', 'this request needs credentials');
      return identity;
    },
  };
  registerRoomRoutes(ctx);

  app.get(transports.websocket, { websocket: true }, (socket) => {
    sessions.accept(new WebSocketServerLink(socket, options.websocket));
  });

  app.setErrorHandler(
    (err: { validation?: unknown; statusCode?: number; message: string }, _request, reply) => {
      if (err.validation || (err.statusCode && err.statusCode < 500)) {
        metrics.error('request_invalid');
        return reply.code(err.statusCode ?? 400).send({ code: 'request_invalid', message: err.message });
      }
      log.error({ err }, 'netloom route failed');
      return reply.code(500).send({ code: 'internal_error', message: 'internal error' });
    },
  );

  app.addHook('preClose', async () => {
    sessions.close();
    control.close();
  });
  app.addHook('onClose', async () => {
    await driver.close();
  });
}

/** netloom as a Fastify plugin: `app.register(netloom, { rooms, driver })`. */
export const netloom = fp(netloomPlugin, { name: 'netloom', fastify: '5.x' });
