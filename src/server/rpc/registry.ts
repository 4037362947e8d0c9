// The endpoint registry: `server.endpoint(name, { request, response, requirements, handler })` and its descriptions.
import type { FastifyRequest } from 'fastify';
import type { CodecLimits } from '../../codec/check.js';
import {
  assertEndpointName,
  describeEndpoint,
  type EndpointCodec,
  type EndpointDescription,
  endpointCodec,
} from '../../codec/endpoints.js';
import { NetloomError } from '../../codec/errors.js';
import type { Schema, SchemaType } from '../../codec/packcat.js';
import type { Logger } from '../metrics.js';
import type { NetloomServerApi } from '../options.js';
import { type Requirement, type RpcCaller, requirementName } from './requirements.js';

/** What an endpoint handler gets besides the request: the caller plus the server around it. */
export interface EndpointContext extends RpcCaller {
  /** The endpoint's name. */
  readonly name: string;
  /** The server's in-process API (`app.netloom`). */
  readonly server: NetloomServerApi;
  /** A logger bound to the endpoint and the caller's session. */
  readonly log: Logger;
  /** The Fastify request of a call over HTTP (undefined over a session). */
  readonly request: FastifyRequest | undefined;
}

/** An endpoint as `server.endpoint` takes it; request and response types come from the schemas. */
export interface EndpointDefinition<Req extends Schema = Schema, Res extends Schema = Schema> {
  request: Req;
  response: Res;
  /** Predicates the caller must meet, checked in order before the handler runs (`requirement_failed`). */
  requirements?: readonly Requirement[];
  /** Longest the handler may run before the call fails with `rpc_timeout` (default: `rpc.handlerTimeoutMs`). */
  timeoutMs?: number;
  /**
   * Answers one call: `request` is decoded and validated; the return value is validated against
   * `response` before it is encoded. Throw a NetloomError to answer with its code; any other
   * error answers `rpc_failed` (and is logged).
   */
  handler(request: SchemaType<Req>, ctx: EndpointContext): SchemaType<Res> | Promise<SchemaType<Res>>;
}

/** A registered endpoint. */
export interface RegisteredEndpoint {
  readonly codec: EndpointCodec;
  readonly requirements: readonly Requirement[];
  readonly requirementNames: readonly string[];
  readonly timeoutMs: number | undefined;
  readonly handler: (request: unknown, ctx: EndpointContext) => unknown;
  /** Built in (`netloom.*`): cannot be removed or replaced. */
  readonly builtin: boolean;
}

/** Every endpoint of this server, by name. */
export class EndpointRegistry {
  private readonly byName = new Map<string, RegisteredEndpoint>();

  constructor(private readonly limits: CodecLimits) {}

  /**
   * Adds an endpoint. Throws `protocol_invalid` for a bad name or schema, a name already taken,
   * a handler that is not a function or a requirement that is not a function.
   */
  add<Req extends Schema, Res extends Schema>(
    name: string,
    definition: EndpointDefinition<Req, Res>,
    builtin = false,
  ): void {
    assertEndpointName(name);
    if (this.byName.has(name))
      throw new NetloomError('protocol_invalid', `endpoint "${name}" is already defined`);
    if (!builtin && name.startsWith('netloom.')) {
      throw new NetloomError('protocol_invalid', `endpoint names starting with "netloom." are reserved`);
    }
    if (typeof definition !== 'object' || definition === null || typeof definition.handler !== 'function') {
      throw new NetloomError('protocol_invalid', `endpoint "${name}" needs a handler function`);
    }
    const requirements = definition.requirements ?? [];
    if (!Array.isArray(requirements) || requirements.some((r) => typeof r !== 'function')) {
      throw new NetloomError('protocol_invalid', `endpoint "${name}": requirements must be functions`);
    }
    const timeoutMs = definition.timeoutMs;
    if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs <= 0)) {
      throw new NetloomError('protocol_invalid', `endpoint "${name}": timeoutMs must be a positive number`);
    }
    const codec = endpointCodec(
      name,
      { request: definition.request, response: definition.response },
      this.limits,
    );
    const handler = definition.handler.bind(definition) as RegisteredEndpoint['handler'];
    this.byName.set(name, {
      codec,
      requirements: [...requirements],
      requirementNames: requirements.map(requirementName),
      timeoutMs,
      handler,
      builtin,
    });
  }

  /** Removes an endpoint (built-in ones stay). Returns false when there was none. */
  remove(name: string): boolean {
    const e = this.byName.get(name);
    if (!e || e.builtin) return false;
    return this.byName.delete(name);
  }

  get(name: string): RegisteredEndpoint | undefined {
    return this.byName.get(name);
  }

  /** JSON descriptions of every endpoint, sorted by name. */
  describe(): EndpointDescription[] {
    return [...this.byName.values()]
      .sort((a, b) => (a.codec.name < b.codec.name ? -1 : 1))
      .map((e) => describeEndpoint(e.codec, [...e.requirementNames]));
  }
}
