// HTTP routes of the rooms API: create, list, get, join, join-or-create, lock/unlock and destroy.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NetloomError } from '../../codec/errors.js';
import { KeyedRateLimiter } from '../../shared/token-bucket.js';
import type { NetloomContext } from '../context.js';
import type { RoomTags } from '../drivers/driver.js';
import type { Identity, Json } from '../identity.js';
import { sendError } from './reply.js';
import { strictValidator } from './validate.js';

/** Longest room type or room id accepted in a path or body (Fastify's router refuses longer path params: 414). */
const MAX_NAME_CHARS = 100;
/** Querystring key of one tag filter: `tags[mode]=duel`. */
const TAG_QUERY_KEY = /^tags\[([^[\]]+)\]$/;

interface CreateBody {
  type: string;
  tags?: RoomTags;
  data?: Json;
  private?: boolean;
  options?: unknown;
  joinData?: unknown;
}

/**
 * Registers the rooms routes under `{prefix}/rooms`. Every route runs `authenticate`; create and
 * the joins are rate-limited per client IP; lock, unlock and destroy need `isAdmin`.
 */
export function registerRoomRoutes(ctx: NetloomContext): void {
  const { app, prefix, api, options, log, metrics, control } = ctx;
  const bodyLimit = options.maxJoinBodyBytes ?? 16_384;
  const limits = control.metadataLimits;
  const rate = options.joinRatePerIp;
  const limiter =
    rate === false ? null : new KeyedRateLimiter(rate?.perSecond ?? 20, Math.max(1, rate?.burst ?? 40));

  const name = { type: 'string', minLength: 1, maxLength: MAX_NAME_CHARS } as const;
  const tags = {
    type: 'object',
    maxProperties: limits.maxTags,
    propertyNames: { minLength: 1, maxLength: limits.maxTagChars },
    additionalProperties: { type: 'string', maxLength: limits.maxTagChars },
  } as const;
  const roomParams = {
    type: 'object',
    properties: { roomId: name },
    required: ['roomId'],
    additionalProperties: false,
  } as const;
  const typeParams = {
    type: 'object',
    properties: { type: name },
    required: ['type'],
    additionalProperties: false,
  } as const;
  const joinBody = {
    type: 'object',
    properties: { joinData: {} },
    additionalProperties: false,
  } as const;
  const joinOrCreateBody = {
    type: 'object',
    properties: { joinData: {}, tags },
    additionalProperties: false,
  } as const;
  const createBody = {
    type: 'object',
    properties: { type: name, tags, data: {}, private: { type: 'boolean' }, options: {}, joinData: {} },
    required: ['type'],
    additionalProperties: false,
  } as const;
  const listQuery = {
    type: 'object',
    properties: { type: name },
    patternProperties: { [TAG_QUERY_KEY.source]: { type: 'string', maxLength: limits.maxTagChars } },
    additionalProperties: false,
    maxProperties: limits.maxTags + 1,
  } as const;

  /** The caller's identity, after the rate limit when `limited`. */
  const caller = async (request: FastifyRequest, limited: boolean): Promise<Identity | undefined> => {
    if (limited && limiter && !limiter.take(request.ip, ctx.now())) {
      throw new NetloomError('rate_limited', 'too many join requests from this address');
    }
    return ctx.authenticate(request);
  };
  const admin = async (request: FastifyRequest): Promise<void> => {
    const identity = await caller(request, false);
    let allowed = false;
    try {
      allowed = options.isAdmin ? (await options.isAdmin(identity)) === true : false;
    } catch (err) {
      log.warn({ err }, 'isAdmin threw; refusing');
    }
    if (!allowed) throw new NetloomError('forbidden', 'this operation needs admin rights');
  };
  const handle =
    <R extends FastifyRequest>(fn: (request: R, reply: FastifyReply) => Promise<unknown>) =>
    async (request: R, reply: FastifyReply) => {
      try {
        return await fn(request, reply);
      } catch (err) {
        return sendError(reply, err, log, metrics);
      }
    };
  const route = { validatorCompiler: strictValidator, bodyLimit };

  app.post<{ Body: CreateBody }>(
    `${prefix}/rooms`,
    { ...route, schema: { body: createBody } },
    handle(async (request, reply) => {
      const identity = await caller(request, true);
      const { type, joinData, ...create } = request.body;
      const room = await api.rooms.create(type, create);
      try {
        const ticket = await api.seats.reserve(room.id, { joinData, identity });
        return reply.code(201).send({ ...ticket, room: (await api.rooms.get(room.id)) ?? room });
      } catch (err) {
        // The creator could not take its seat (onAuth refused): do not leave an empty room behind.
        await api.rooms.destroy(room.id).catch(() => undefined);
        throw err;
      }
    }),
  );

  app.get<{ Querystring: Record<string, string> }>(
    `${prefix}/rooms`,
    { ...route, schema: { querystring: listQuery } },
    handle(async (request) => {
      await caller(request, false);
      const filterTags: RoomTags = {};
      for (const [key, value] of Object.entries(request.query)) {
        const match = TAG_QUERY_KEY.exec(key);
        if (match) Object.defineProperty(filterTags, match[1], { value, enumerable: true });
      }
      return { rooms: await api.rooms.list({ type: request.query.type, tags: filterTags }) };
    }),
  );

  app.get<{ Params: { roomId: string } }>(
    `${prefix}/rooms/:roomId`,
    { ...route, schema: { params: roomParams } },
    handle(async (request) => {
      await caller(request, false);
      const room = await api.rooms.get(request.params.roomId);
      if (!room && (await api.rooms.lost(request.params.roomId))) {
        throw new NetloomError('room_lost', `room ${request.params.roomId} was lost with its node`);
      }
      if (!room) throw new NetloomError('room_not_found', `no room ${request.params.roomId}`);
      return room;
    }),
  );

  app.post<{ Params: { roomId: string }; Body: { joinData?: unknown } }>(
    `${prefix}/rooms/:roomId/join`,
    { ...route, schema: { params: roomParams, body: joinBody } },
    handle(async (request) => {
      const identity = await caller(request, true);
      return api.seats.reserve(request.params.roomId, { joinData: request.body.joinData, identity });
    }),
  );

  app.post<{ Params: { type: string }; Body: { joinData?: unknown; tags?: RoomTags } }>(
    `${prefix}/rooms/:type/join-or-create`,
    { ...route, schema: { params: typeParams, body: joinOrCreateBody } },
    handle(async (request) => {
      const identity = await caller(request, true);
      const { joinData, tags: wanted } = request.body;
      return api.rooms.joinOrCreate(request.params.type, { joinData, tags: wanted, identity });
    }),
  );

  for (const action of ['lock', 'unlock'] as const) {
    app.post<{ Params: { roomId: string } }>(
      `${prefix}/rooms/:roomId/${action}`,
      { ...route, schema: { params: roomParams } },
      handle(async (request) => {
        await admin(request);
        const { roomId } = request.params;
        return action === 'lock' ? api.rooms.lock(roomId) : api.rooms.unlock(roomId);
      }),
    );
  }

  app.delete<{ Params: { roomId: string } }>(
    `${prefix}/rooms/:roomId`,
    { ...route, schema: { params: roomParams } },
    handle(async (request, reply) => {
      await admin(request);
      await api.rooms.destroy(request.params.roomId);
      return reply.code(204).send();
    }),
  );
}
