// HTTP routes of the rooms API: join-or-create, join by id, list.
import type { NetloomContext } from '../context.js';
import { sendError } from './reply.js';

const joinBody = {
  type: 'object',
  properties: { joinData: {} },
  additionalProperties: false,
} as const;

export function registerRoomRoutes(ctx: NetloomContext): void {
  const { app, prefix, api, options, log, metrics } = ctx;
  const bodyLimit = options.maxJoinBodyBytes ?? 16_384;

  app.post<{ Params: { type: string }; Body: { joinData?: unknown } | undefined }>(
    `${prefix}/rooms/:type/join-or-create`,
    { schema: { body: joinBody }, bodyLimit },
    async (request, reply) => {
      try {
        return await api.rooms.joinOrCreate(request.params.type, request.body?.joinData);
      } catch (err) {
        return sendError(reply, err, log, metrics);
      }
    },
  );

  app.post<{ Params: { roomId: string }; Body: { joinData?: unknown } | undefined }>(
    `${prefix}/rooms/:roomId/join`,
    { schema: { body: joinBody }, bodyLimit },
    async (request, reply) => {
      try {
        return await api.seats.reserve(request.params.roomId, { joinData: request.body?.joinData });
      } catch (err) {
        return sendError(reply, err, log, metrics);
      }
    },
  );

  app.get<{ Querystring: { type?: string } }>(
    `${prefix}/rooms`,
    { schema: { querystring: { type: 'object', properties: { type: { type: 'string', maxLength: 128 } } } } },
    async (request) => ({ rooms: await api.rooms.list(request.query.type) }),
  );
}
