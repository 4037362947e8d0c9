// NetloomContext: what the plugin hands to each route module and subsystem (one object, no globals).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../shared/clock.js';
import type { ControlPlane } from './control.js';
import type { Driver } from './drivers/driver.js';
import type { Identity } from './identity.js';
import type { Logger, Metrics } from './metrics.js';
import type { NetloomOptions, NetloomServerApi } from './options.js';
import type { SessionManager } from './session/manager.js';

export interface NetloomContext {
  app: FastifyInstance;
  /** URL prefix of netloom's routes, without a trailing slash (default `/netloom`). */
  prefix: string;
  options: NetloomOptions;
  nodeId: string;
  clock: Clock;
  now: () => number;
  driver: Driver;
  control: ControlPlane;
  sessions: SessionManager;
  metrics: Metrics;
  log: Logger;
  api: NetloomServerApi;
  /** Paths of the transports this node offers, relative to the server's origin. */
  transports: { websocket: string };
  /**
   * Runs the `authenticate` option on a request: the identity, or undefined when no `authenticate`
   * is configured (anonymous play). Throws NetloomError `auth_required` / `auth_invalid` on refusal.
   */
  authenticate(request: FastifyRequest): Promise<Identity | undefined>;
}
