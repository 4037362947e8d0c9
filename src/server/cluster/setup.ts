// Wires a node into its cluster: the ClusterNode, the routed control plane, pushes across nodes, and the public URL.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { NetloomError } from '../../codec/errors.js';
import type { ControlPlane, SeatReservation } from '../control.js';
import type { Driver } from '../drivers/driver.js';
import type { Logger, Metrics } from '../metrics.js';
import type { ClusterPush, Pusher } from '../push.js';
import { ClusterNode, type ClusterOptions } from './node.js';
import { ClusterControl } from './routed.js';
import type { ClusterBackend, NodeRecord } from './types.js';

/** How long every node refuses an ended match's id with `match_ended` (as a single node does). */
const ENDED_TTL_MS = 3_600_000;

export interface ClusterSetup {
  node: ClusterNode;
  control: ClusterControl;
  /** Resolves once the node registered (after `start`); rejects when registering failed. */
  ready(): Promise<void>;
  /** Registers the node once the server listens (its URL is known then). */
  start(app: FastifyInstance): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterSetupDeps {
  backend: ClusterBackend;
  driver: Driver;
  nodeId: string;
  options: ClusterOptions | undefined;
  seatSecretGiven: boolean;
  control: ControlPlane;
  pusher: Pusher;
  prefix: string;
  /** Adds this node's connect details to a reservation made here (read lazily). */
  ticket: (r: SeatReservation) => SeatReservation;
  /** Transports and load as of now, for the node record. */
  status(): { load: number; webtransportPort?: number; webrtc: boolean };
  log: Logger;
  metrics: Metrics;
}

/** Builds the cluster side of a node whose driver spans processes. */
export function setupCluster(deps: ClusterSetupDeps): ClusterSetup {
  if (!deps.seatSecretGiven) {
    throw new NetloomError(
      'request_invalid',
      'a clustered driver needs `seatSecret`: every node must sign and verify seats with the same secret',
    );
  }
  const { backend, control, pusher, log, metrics } = deps;
  const node: ClusterNode = new ClusterNode({
    backend,
    nodeId: deps.nodeId,
    options: deps.options,
    serves: (type) => control.types.includes(type),
    record: (): Omit<NodeRecord, 'id' | 'url' | 'capacity' | 'tags' | 'startedAt'> => {
      const status = deps.status();
      return {
        roomTypes: control.types,
        load: status.load,
        rooms: control.size,
        transports: {
          websocket: `${node.publicUrl}${deps.prefix}/ws`,
          ...(status.webtransportPort !== undefined
            ? { webtransport: { port: status.webtransportPort } }
            : {}),
          webrtc: status.webrtc,
        },
      };
    },
    onEvent: (event) => {
      if (event.kind === 'push') pusher.receive(event.body as ClusterPush);
    },
    syncRooms: () => backend.syncRooms(deps.nodeId, control.running()),
    loseRooms: () => control.loseAll(),
    log,
    metrics,
  });
  control.shared = {
    ended: (roomId) => {
      backend.markEnded(roomId, ENDED_TTL_MS).catch((err: unknown) => {
        metrics.error('driver_unavailable');
        log.warn({ err, roomId }, 'ended match not recorded in the cluster');
      });
    },
    state: (roomId, changes) => {
      backend.writeState(roomId, changes).catch((err: unknown) => {
        metrics.error('driver_unavailable');
        log.warn({ err, roomId }, 'shared room state not written (re-published after the store is back)');
      });
    },
  };
  const routed = new ClusterControl(control, deps.driver, node, (r) => deps.ticket(r));
  node.handle(routed.handlers());
  pusher.fanout = (push) => {
    node.publish('push', push).catch((err: unknown) => {
      metrics.error('driver_unavailable');
      log.warn({ err }, 'push not sent to the other nodes');
    });
  };
  let markReady: (error?: unknown) => void = () => {};
  const registered = new Promise<void>((resolve, reject) => {
    markReady = (error) => (error === undefined ? resolve() : reject(error));
  });
  registered.catch(() => undefined);
  return {
    node,
    control: routed,
    ready: () => registered,
    async start(app) {
      try {
        await node.start(deps.options?.publicUrl ?? listeningUrl(app));
        markReady();
      } catch (err) {
        log.error({ err }, 'this node could not join its cluster');
        markReady(err);
        throw err;
      }
    },
    async stop() {
      pusher.fanout = null;
      control.shared = null;
      await node.stop();
    },
  };
}

/** `http://<address>:<port>` of the listening server; a wildcard address becomes loopback. */
function listeningUrl(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo | string | null;
  if (!address || typeof address === 'string') {
    throw new NetloomError('request_invalid', 'cannot tell this node’s URL: set `cluster.publicUrl`');
  }
  let host = address.address;
  if (host === '0.0.0.0' || host === '::' || host === '') host = '127.0.0.1';
  if (host.includes(':')) host = `[${host}]`;
  return `http://${host}:${address.port}`;
}
