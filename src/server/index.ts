// netloom/server: authoritative rooms, the control plane and the Fastify plugin.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { netloom } from './plugin.js';
import type { NetloomOptions } from './options.js';

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

export { netloom };
export type { NetloomOptions, NetloomServerApi, JoinTicket, AnyRoomDefinition } from './options.js';
export { defineRoom } from './rooms/define.js';
export type {
  Room,
  RoomClient,
  RoomDefinition,
  AuthResult,
  LeaveReason,
  SendOptions,
  BroadcastOptions,
  MessageHandlers,
} from './rooms/define.js';
export type { RoomHost, RoomRunner, RoomSpec, MemberPort } from './rooms/host.js';
export { inProcessRunner } from './rooms/room.js';
export { memoryDriver } from './drivers/memory.js';
export type { Driver, RoomRecord, ReserveResult, RedeemResult } from './drivers/driver.js';
export type { SeatReservation } from './control.js';
export { NetloomError, type ErrorCode } from '../codec/errors.js';
export { systemClock, ManualClock, type Clock } from '../shared/clock.js';
export type { Logger } from './metrics.js';
