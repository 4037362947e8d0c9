// HTTP routes of RPC: `POST {prefix}/rpc/:name` (packcat bytes in and out) and `GET {prefix}/rpc` (introspection).
import type { FastifyInstance } from 'fastify';
import { NetloomError } from '../../codec/errors.js';
import { KeyedRateLimiter } from '../../shared/token-bucket.js';
import type { NetloomContext } from '../context.js';
import type { ResolvedRpcOptions, RpcDispatcher } from '../rpc/dispatch.js';
import type { EndpointRegistry } from '../rpc/registry.js';
import { identityView } from '../session-data.js';
import { sendError } from './reply.js';

export interface RpcRouteDeps {
  dispatcher: RpcDispatcher;
  registry: EndpointRegistry;
  options: ResolvedRpcOptions;
}

const OCTET_STREAM = 'application/octet-stream';

/** Registers the RPC routes in their own Fastify scope (so the octet-stream body parser stays local). */
export function registerRpcRoutes(ctx: NetloomContext, deps: RpcRouteDeps): void {
  const { app, prefix, log, metrics, clock } = ctx;
  const { dispatcher, registry, options } = deps;
  const limiter = new KeyedRateLimiter(options.httpRatePerSecond, options.httpBurst);

  const routes = async (scope: FastifyInstance): Promise<void> => {
    if (!scope.hasContentTypeParser(OCTET_STREAM)) {
      scope.addContentTypeParser(
        OCTET_STREAM,
        { parseAs: 'buffer', bodyLimit: options.maxHttpBodyBytes },
        (_req, body, done) => {
          done(null, body);
        },
      );
    }

    scope.post<{ Params: { name: string } }>(
      `${prefix}/rpc/:name`,
      {
        bodyLimit: options.maxHttpBodyBytes,
        schema: {
          params: {
            type: 'object',
            properties: { name: { type: 'string', minLength: 1, maxLength: 128 } },
            required: ['name'],
          },
        },
      },
      async (request, reply) => {
        try {
          if (!limiter.take(request.ip, clock.now())) {
            throw new NetloomError('rate_limited', 'too many RPC calls from this address');
          }
          const identity = await ctx.authenticate(request);
          const body = request.body;
          let payload: Uint8Array;
          if (body === undefined || body === null) payload = new Uint8Array(0);
          else if (body instanceof Uint8Array) payload = body;
          else throw new NetloomError('request_invalid', `RPC bodies are ${OCTET_STREAM}`);
          const caller = {
            sessionId: undefined,
            identity,
            data: identityView(identity),
            transport: 'http' as const,
          };
          const bytes = await dispatcher.call(caller, request.params.name, payload, request);
          return reply.type(OCTET_STREAM).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        } catch (err) {
          return sendError(reply, err, log, metrics);
        }
      },
    );

    if (options.introspection) {
      scope.get(`${prefix}/rpc`, async (request, reply) => {
        try {
          await ctx.authenticate(request);
          return { endpoints: registry.describe() };
        } catch (err) {
          return sendError(reply, err, log, metrics);
        }
      });
    }
  };
  void app.register(routes);
}
