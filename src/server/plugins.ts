// Server plugins: `server.use(plugin)` and `NetloomOptions.plugins`; a plugin adds rooms, endpoints, session data and hooks.
import type { FastifyInstance } from 'fastify';
import { NetloomError } from '../codec/errors.js';
import type { AnyRoomDefinition, NetloomServerApi } from './options.js';

/** A plugin as an object: a name, room types it contributes, and an install step. */
export interface NetloomPluginObject {
  /** Unique among the plugins of a server. */
  name: string;
  /**
   * Room types the plugin contributes. From `NetloomOptions.plugins` they are known before the server
   * starts; from `server.use` later they are added then (a type name already taken is refused).
   */
  rooms?: Record<string, AnyRoomDefinition>;
  /**
   * Installs endpoints, session-data keys, hooks, pushes (`server` is `app.netloom`) and, where
   * natural, Fastify routes or plugins (`app`: only from `NetloomOptions.plugins`, since Fastify
   * refuses routes once the server listens). May be async; the server waits for it.
   */
  install?(server: NetloomServerApi, app: FastifyInstance): void | Promise<void>;
}

/** A plugin as a function: its install step (named after the function). */
export type NetloomPluginFunction = (server: NetloomServerApi, app: FastifyInstance) => void | Promise<void>;

/** What `server.use` and `NetloomOptions.plugins` accept. */
export type NetloomPlugin = NetloomPluginObject | NetloomPluginFunction;

function pluginName(plugin: NetloomPlugin, index: number): string {
  if (typeof plugin === 'function') return plugin.name || `plugin #${index}`;
  return plugin.name;
}

function assertPlugin(plugin: unknown): asserts plugin is NetloomPlugin {
  if (typeof plugin === 'function') return;
  if (typeof plugin !== 'object' || plugin === null) {
    throw new NetloomError('protocol_invalid', 'a plugin is a function or { name, rooms?, install? }');
  }
  const p = plugin as Partial<NetloomPluginObject>;
  if (typeof p.name !== 'string' || p.name.length === 0)
    throw new NetloomError('protocol_invalid', 'a plugin needs a name');
  if (p.install !== undefined && typeof p.install !== 'function') {
    throw new NetloomError('protocol_invalid', `plugin "${p.name}": install must be a function`);
  }
  if (p.rooms !== undefined && (typeof p.rooms !== 'object' || p.rooms === null)) {
    throw new NetloomError(
      'protocol_invalid',
      `plugin "${p.name}": rooms must be an object of room definitions`,
    );
  }
}

/** Installs plugins; owns the live table of room types the control plane reads. */
export class PluginHost {
  /** Room types by name: the options' rooms plus those of every plugin. The control plane reads this object. */
  readonly rooms: Record<string, AnyRoomDefinition>;
  private readonly installed: string[] = [];
  private counter = 0;

  /** Collects room types from `rooms` and from the plugins' `rooms` (throws `protocol_invalid` on a clash). */
  constructor(
    rooms: Record<string, AnyRoomDefinition>,
    private readonly initial: readonly NetloomPlugin[] = [],
  ) {
    this.rooms = { ...rooms };
    if (!Array.isArray(initial)) throw new NetloomError('protocol_invalid', 'plugins must be an array');
    for (const plugin of initial) {
      assertPlugin(plugin);
      if (typeof plugin === 'object') this.addRooms(plugin);
    }
  }

  /** Names of the plugins installed so far, in order. */
  names(): string[] {
    return [...this.installed];
  }

  /** Installs the plugins given in the options (their rooms are already in the table). */
  async installInitial(server: NetloomServerApi, app: FastifyInstance): Promise<void> {
    for (const plugin of this.initial) await this.install(plugin, server, app, false);
  }

  /** `server.use(plugin)`: adds its rooms, then runs its install step. Throws `protocol_invalid` for a repeated name. */
  async use(plugin: NetloomPlugin, server: NetloomServerApi, app: FastifyInstance): Promise<void> {
    assertPlugin(plugin);
    await this.install(plugin, server, app, true);
  }

  private async install(
    plugin: NetloomPlugin,
    server: NetloomServerApi,
    app: FastifyInstance,
    withRooms: boolean,
  ): Promise<void> {
    const name = pluginName(plugin, ++this.counter);
    if (this.installed.includes(name))
      throw new NetloomError('protocol_invalid', `plugin "${name}" is already installed`);
    if (withRooms && typeof plugin === 'object') this.addRooms(plugin);
    this.installed.push(name);
    if (typeof plugin === 'function') await plugin(server, app);
    else if (plugin.install) await plugin.install(server, app);
  }

  private addRooms(plugin: NetloomPluginObject): void {
    const rooms = plugin.rooms ?? {};
    for (const type of Object.keys(rooms)) {
      if (Object.hasOwn(this.rooms, type)) {
        throw new NetloomError(
          'protocol_invalid',
          `plugin "${plugin.name}": room type "${type}" already exists`,
        );
      }
    }
    Object.assign(this.rooms, rooms);
  }
}
