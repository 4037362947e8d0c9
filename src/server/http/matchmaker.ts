// HTTP routes of the matchmaker: file a ticket, long-poll its result, cancel it.
import type { FastifyRequest } from 'fastify';
import { NetloomError } from '../../codec/errors.js';
import type { MatchTicketRequest } from '../../shared/matchmaking.js';
import { KeyedRateLimiter } from '../../shared/token-bucket.js';
import type { NetloomContext } from '../context.js';
import type { Identity } from '../identity.js';
import { ticketLimits } from '../matchmaker/ticket.js';
import { sendError } from './reply.js';

/** Header carrying an anonymous player's owner id (returned when the ticket was filed). */
export const OWNER_HEADER = 'x-netloom-owner';

/** JSON schema of a ticket body, built from the configured ticket limits. */
export function ticketBodySchema(options: NetloomContext['options']): Record<string, unknown> {
  const limits = ticketLimits(options.matchmaker?.limits);
  const count = { type: 'integer', minimum: 1, maximum: 100_000 };
  return {
    type: 'object',
    additionalProperties: false,
    required: ['roomType', 'minPlayers', 'maxPlayers'],
    properties: {
      roomType: { type: 'string', minLength: 1, maxLength: limits.maxRoomTypeLength },
      joinData: {},
      properties: {
        type: 'object',
        maxProperties: limits.maxProperties,
        propertyNames: { minLength: 1, maxLength: limits.maxKeyLength },
        additionalProperties: {
          anyOf: [{ type: 'string', maxLength: limits.maxStringLength }, { type: 'number' }],
        },
      },
      query: {
        type: 'object',
        maxProperties: limits.maxProperties,
        propertyNames: { minLength: 1, maxLength: limits.maxKeyLength },
        additionalProperties: {
          anyOf: [
            { type: 'string', maxLength: limits.maxStringLength },
            {
              type: 'object',
              additionalProperties: false,
              properties: { min: { type: 'number' }, max: { type: 'number' } },
            },
          ],
        },
      },
      minPlayers: count,
      maxPlayers: count,
      countMultiple: count,
      party: {
        type: 'array',
        minItems: 1,
        maxItems: 1_000,
        items: { type: 'string', minLength: 1, maxLength: limits.maxUserIdLength },
      },
    },
  };
}

const ticketParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export function registerMatchmakerRoutes(ctx: NetloomContext): void {
  const { app, prefix, api, log, metrics } = ctx;
  const base = `${prefix}/matchmaker/tickets`;
  const rate = ctx.options.matchmaker?.ticketRatePerIp;
  const limiter =
    rate === false ? null : new KeyedRateLimiter(rate?.perSecond ?? 5, Math.max(1, rate?.burst ?? 10));

  /** Who is asking, and the owner id their tickets are filed under (undefined: anonymous, none given). */
  const caller = async (request: FastifyRequest): Promise<{ identity?: Identity; owner?: string }> => {
    const identity = await ctx.authenticate(request);
    if (identity) return { identity, owner: identity.userId };
    const header = request.headers[OWNER_HEADER];
    return { owner: typeof header === 'string' && header.length > 0 ? header : undefined };
  };

  app.post<{ Body: MatchTicketRequest }>(
    base,
    { schema: { body: ticketBodySchema(ctx.options) }, attachValidation: true, bodyLimit: 16_384 },
    async (request, reply) => {
      try {
        if (limiter && !limiter.take(request.ip, ctx.now())) {
          throw new NetloomError('rate_limited', 'too many tickets from this address; slow down');
        }
        const who = await caller(request);
        if (request.validationError) {
          throw new NetloomError('ticket_invalid', `bad ticket: ${request.validationError.message}`);
        }
        return await api.matchmaker.submit(request.body, who);
      } catch (err) {
        return sendError(reply, err, log, metrics);
      }
    },
  );

  app.get<{ Params: { id: string }; Querystring: { waitMs?: number } }>(
    `${base}/:id`,
    {
      schema: {
        params: ticketParams,
        querystring: {
          type: 'object',
          properties: { waitMs: { type: 'integer', minimum: 0, maximum: 3_600_000 } },
        },
      },
    },
    async (request, reply) => {
      const gone = new AbortController();
      const onClose = () => gone.abort();
      reply.raw.once('close', onClose);
      if (reply.raw.destroyed || request.raw.socket?.destroyed) gone.abort(); // the caller left already
      try {
        const { owner } = await caller(request);
        const status = await api.matchmaker.wait(request.params.id, {
          owner: owner ?? '',
          waitMs: request.query.waitMs,
          signal: gone.signal,
        });
        if (status.status === 'failed') throw new NetloomError(status.code, status.message);
        return status;
      } catch (err) {
        return sendError(reply, err, log, metrics);
      } finally {
        reply.raw.off('close', onClose);
      }
    },
  );

  app.delete<{ Params: { id: string } }>(
    `${base}/:id`,
    { schema: { params: ticketParams } },
    async (request, reply) => {
      try {
        const { owner } = await caller(request);
        return { cancelled: await api.matchmaker.cancel(request.params.id, { owner: owner ?? '' }) };
      } catch (err) {
        return sendError(reply, err, log, metrics);
      }
    },
  );
}
