// The netloom Fastify plugin: HTTP routes for seats and rooms, the WebSocket endpoint, and the `netloom` decoration.
import { randomBytes } from 'node:crypto';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { DEFAULT_FRAME_LIMITS } from '../codec/frames.js';
import { systemClock } from '../shared/clock.js';
import { setupCluster } from './cluster/setup.js';
import type { NetloomContext } from './context.js';
import { localControlApi, roomsApi, seatsApi } from './control/api.js';
import { ControlPlane, type SeatReservation } from './control.js';
import { memoryDriver } from './drivers/memory.js';
import { createExtensions } from './extensions.js';
import { registerMatchmakerRoutes } from './http/matchmaker.js';
import { registerOpsRoutes } from './http/ops.js';
import { registerRoomRoutes } from './http/rooms.js';
import { runAuthenticate } from './identity.js';
import { handleSignals, Lifecycle } from './lifecycle.js';
import { createMatchmaker } from './matchmaker/index.js';
import { addTraffic, emptyTraffic, Metrics, trafficValues } from './metrics.js';
import type { JoinTicket, NetloomOptions, NetloomServerApi } from './options.js';
import { inProcessRunner } from './rooms/room.js';
import { SeatSigner } from './seats.js';
import { clientLimits } from './session/limits.js';
import { SessionManager } from './session/manager.js';
import { createUpgradeService } from './transports/webrtc/service.js';
import { WEBSOCKET_LINK_DEFAULTS, WebSocketServerLink } from './transports/websocket.js';
import { WebTransportService } from './transports/webtransport/service.js';

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
  const ext = createExtensions({ options, clock, log, metrics });
  const control = new ControlPlane({
    rooms: ext.rooms,
    driver,
    runner: options.runner ?? inProcessRunner,
    signer: new SeatSigner(options.seatSecret ?? randomBytes(32)),
    nodeId,
    clock,
    now: options.now ?? Date.now,
    seatTtlMs: options.seatTtlMs ?? 30_000,
    maxRoomsPerType: options.maxRoomsPerType,
    roomMetadata: options.roomMetadata,
    endedRooms: options.endedRooms,
    log,
    metrics,
  });
  const frameLimits = { ...DEFAULT_FRAME_LIMITS, ...options.session?.frameLimits };
  const upgrade = createUpgradeService(options.webrtc, { clock, log, metrics });
  const sessions = new SessionManager(
    {
      handshakeTimeoutMs: options.session?.handshakeTimeoutMs ?? 5_000,
      pingIntervalMs: options.session?.pingIntervalMs ?? 2_000,
      rttProbeMs: options.session?.rttProbeMs,
      idleTimeoutMs: options.session?.idleTimeoutMs ?? 6_000,
      emptySessionMs: options.session?.emptySessionMs ?? 10_000,
      frameLimits,
      limits: clientLimits(options.session?.limits),
      core: { maxBufferBytes: options.session?.maxBufferBytes ?? 1 << 20 },
    },
    {
      clock,
      log,
      metrics,
      join: (sessionId, seat, port, holder) => control.redeem(seat, sessionId, port, { holder }),
      extensions: ext.session,
      signaling: upgrade?.signaling,
    },
  );
  metrics.addSource('gauge', () => ({ sessions: sessions.size }));
  metrics.addSource('counter', () => {
    const traffic = emptyTraffic();
    addTraffic(traffic, metrics.retiredTraffic);
    for (const session of sessions.live()) addTraffic(traffic, session.core.stats());
    return trafficValues(traffic);
  });
  // The shutdown bound is real time (not options.clock): it guarantees the process can exit.
  const lifecycle = new Lifecycle({
    clock: systemClock,
    log,
    server: () => api,
    timeoutMs: options.shutdownTimeoutMs ?? 10_000,
    steps: {
      drain: () => sessions.drain(),
      closeSessions: (reason) => {
        let told = 0;
        for (const session of sessions.live()) {
          session.notice('server_shutdown', reason);
          told++;
        }
        sessions.close();
        return told;
      },
      disposeRooms: () => control.close(),
    },
  });
  lifecycle.add(options.hooks);
  const transports = { websocket: `${prefix}/ws`, ...(upgrade ? { webrtc: upgrade.ticket } : {}) };
  const webTransport = options.webtransport?.enabled
    ? await WebTransportService.start(options.webtransport, {
        path: `${prefix}/wt`,
        metrics,
        log,
        attach: (token, link, switchTimeoutMs) => sessions.attachUpgraded(token, link, switchTimeoutMs),
      })
    : null;
  if (webTransport) {
    metrics.addSource('counter', () => {
      const { framesIn, framesOut } = webTransport.stats();
      return {
        'webtransport_frames_in{reliable}': framesIn.reliable,
        'webtransport_frames_in{unreliable}': framesIn.unreliable,
        'webtransport_frames_out{reliable}': framesOut.reliable,
        'webtransport_frames_out{unreliable}': framesOut.unreliable,
        webtransport_udp_packets_in: webTransport.endpoint.stats().packetsIn,
        webtransport_udp_packets_out: webTransport.endpoint.stats().packetsOut,
      };
    });
  }
  // The WebTransport entry is computed per ticket: its certificate hashes change when it rotates.
  // In a cluster a ticket names this node's URL; a reservation another node made already has its own.
  const withTransports = (r: SeatReservation): JoinTicket => {
    if ('transports' in r) return r as JoinTicket;
    const url = cluster?.node.publicUrl;
    const offered = url ? { ...transports, websocket: `${url}${transports.websocket}` } : transports;
    return {
      ...r,
      ...(url ? { url } : {}),
      transports: webTransport ? { ...offered, webtransport: webTransport.ticket() } : offered,
    };
  };
  const cluster = driver.cluster
    ? setupCluster({
        backend: driver.cluster,
        driver,
        nodeId,
        options: options.cluster,
        seatSecretGiven: options.seatSecret !== undefined,
        control,
        pusher: ext.pusher,
        prefix,
        ticket: withTransports,
        status: () => ({
          load: sessions.size,
          webrtc: upgrade !== null && upgrade !== undefined,
          ...(webTransport ? { webtransportPort: webTransport.endpoint.address.port } : {}),
        }),
        log,
        metrics,
      })
    : null;
  const routedControl = cluster?.control ?? localControlApi(control);

  const matchmaker = createMatchmaker({
    rooms: ext.rooms,
    options: options.matchmaker,
    clock,
    log,
    metrics,
    api: () => api,
    ...(driver.cluster ? { cluster: { backend: driver.cluster, nodeId } } : {}),
  });
  const api: NetloomServerApi = {
    ...ext.api(() => api, app),
    nodeId,
    rooms: roomsApi(routedControl, withTransports),
    seats: seatsApi(routedControl, withTransports),
    cluster: cluster
      ? {
          nodeId,
          publicUrl: () => cluster.node.publicUrl,
          nodes: () => cluster.node.nodes(),
          ready: () => cluster.ready(),
        }
      : null,
    sessions: { count: () => sessions.size },
    webtransport: webTransport,
    matchmaker,
    hooks: { ...lifecycle.api(), ...ext.hooks },
    shutdown: async (shutdownOptions = {}) => {
      const startedAt = performance.now();
      const report = await lifecycle.shutdown(shutdownOptions);
      const boundMs = shutdownOptions.timeoutMs ?? options.shutdownTimeoutMs ?? 10_000;
      const left = Math.max(0, boundMs - (performance.now() - startedAt));
      if (!(await closeWithin(app, left))) report.timedOut = true;
      return report;
    },
    metrics: () => ({ ...metrics.snapshot(), rooms: metrics.sum('rooms') }),
  };
  app.decorate('netloom', api);

  // Before @fastify/websocket registers its own preClose (which closes every socket), so that clients
  // get the server_shutdown notice and CLOSE first.
  app.addHook('preClose', async () => {
    await lifecycle.shutdown();
  });
  app.addHook('onReady', async () => {
    await lifecycle.bootstrap();
  });
  app.addHook('onListen', async () => {
    await cluster?.start(app);
    await lifecycle.started();
  });
  if (options.handleSignals) {
    const signals: NodeJS.Signals[] =
      options.handleSignals === true ? ['SIGTERM', 'SIGINT'] : options.handleSignals;
    const uninstall = handleSignals(signals, () => api.shutdown(), log);
    app.addHook('onClose', async () => uninstall());
  }

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
    authenticate: (request) => runAuthenticate(options.authenticate, request),
  };
  registerRoomRoutes(ctx);
  registerOpsRoutes(ctx, lifecycle);
  registerMatchmakerRoutes(ctx);
  await ext.register(ctx);

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
    await matchmaker.close();
    sessions.close();
    upgrade?.close();
    control.close();
  });
  app.addHook('onClose', async () => {
    await cluster?.stop();
    await webTransport?.close();
    await driver.close();
  });
}

/** Closes the Fastify app, waiting at most `ms`; false when it did not finish in time. */
async function closeWithin(app: FastifyInstance, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([app.close().then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** netloom as a Fastify plugin: `app.register(netloom, { rooms, driver })`. */
export const netloom = fp(netloomPlugin, { name: 'netloom', fastify: '5.x' });
