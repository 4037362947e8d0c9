// netloom/server: authoritative rooms, the control plane and the Fastify plugin.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { NetloomOptions } from './options.js';
import { netloom } from './plugin.js';

export interface CreateServerOptions extends NetloomOptions {
  /** Fastify's logger option (default false). */
  logger?: FastifyServerOptions['logger'];
  /** Other Fastify options. */
  fastify?: Omit<FastifyServerOptions, 'logger'>;
}

/** A Fastify app with netloom registered and ready to `listen`; add your own routes before listening. */
export async function createServer(options: CreateServerOptions): Promise<FastifyInstance> {
  const { logger, fastify, ...netloomOptions } = options;
  const app = Fastify({ logger: logger ?? false, ...fastify });
  await app.register(netloom, netloomOptions);
  return app;
}

export { type ErrorCode, NetloomError } from '../codec/errors.js';
export { type Clock, ManualClock, systemClock } from '../shared/clock.js';
export type { SeatReservation } from './control.js';
export type { Driver, RedeemResult, ReserveResult, RoomRecord } from './drivers/driver.js';
export { memoryDriver } from './drivers/memory.js';
export type { Authenticate, Identity, Json } from './identity.js';
export type { Logger } from './metrics.js';
export type { AnyRoomDefinition, JoinTicket, NetloomOptions, NetloomServerApi } from './options.js';
export type {
  AuthResult,
  BroadcastOptions,
  LeaveReason,
  MessageHandlers,
  Room,
  RoomClient,
  RoomDefinition,
  SendOptions,
} from './rooms/define.js';
export { defineRoom } from './rooms/define.js';
export type { MemberPort, RoomHost, RoomRunner, RoomSpec } from './rooms/host.js';
export { inProcessRunner } from './rooms/room.js';
export { netloom };
