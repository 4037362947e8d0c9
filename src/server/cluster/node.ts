// ClusterNode: this node's registration and heartbeat, reaping of dead nodes, placement, and request/reply between nodes.
import { randomBytes } from 'node:crypto';
import { isErrorCode, NetloomError } from '../../codec/errors.js';
import type { RoomTags } from '../drivers/driver.js';
import type { Logger, Metrics } from '../metrics.js';
import type { ClusterBackend, NodeRecord } from './types.js';

/** `cluster` in the server options: how this node joins a cluster (used when the driver has `cluster`). */
export interface ClusterOptions {
  /**
   * Public base URL of this node's HTTP server, as clients reach it (`https://node2.example.com`).
   * Seats for rooms on this node point here, so no sticky load balancer is needed. Default:
   * `http://<listening address>:<port>` once the server listens (loopback for a wildcard address).
   */
  publicUrl?: string;
  /** Sessions this node is meant to carry; placement prefers the lowest `load / capacity` (default 5,000). */
  capacity?: number;
  /**
   * Tags of this node (`{ region: 'eu' }`). A room whose tags give a value for one of these keys is
   * only placed on nodes with the same value; other rooms go anywhere.
   */
  tags?: RoomTags;
  /** Time between heartbeats (default 1,000 ms); each also reaps nodes that stopped heartbeating. */
  heartbeatMs?: number;
  /** A node that missed heartbeats for this long is taken for dead (default 3,000 ms). */
  nodeTtlMs?: number;
  /** Longest wait for another node's answer (default 5,000 ms); then `node_unavailable`. */
  requestTimeoutMs?: number;
  /** How long the ids of a dead node's rooms answer `room_lost` (default 600,000 ms). */
  lostRoomTtlMs?: number;
}

export const CLUSTER_DEFAULTS = {
  capacity: 5_000,
  heartbeatMs: 1_000,
  nodeTtlMs: 3_000,
  requestTimeoutMs: 5_000,
  lostRoomTtlMs: 600_000,
} as const;

/** A handler for requests from other nodes; its result must be JSON. */
export type RequestHandler = (body: unknown) => Promise<unknown>;

/** A message every node gets (pushes, broadcasts). */
export interface ClusterEvent {
  kind: string;
  body: unknown;
}

export interface ClusterNodeDeps {
  backend: ClusterBackend;
  nodeId: string;
  options?: ClusterOptions;
  /** Whether this node runs rooms of `type`. */
  serves(type: string): boolean;
  /** This node's record as of now (the URL is added once known). */
  record(): Omit<NodeRecord, 'id' | 'url' | 'capacity' | 'tags' | 'startedAt'>;
  /** A cluster event published by another node. */
  onEvent(event: ClusterEvent): void;
  /**
   * The registry may disagree with this node (the store restarted empty, or writes failed while it
   * was down): make it agree with the rooms running here.
   */
  syncRooms(): Promise<void>;
  /** Others took this node for dead and freed its rooms' seats: end those rooms (`room_lost`). */
  loseRooms(): void;
  log: Logger;
  metrics: Metrics;
}

type Wire =
  | { k: 'q'; id: string; from: string; op: string; body: unknown }
  | { k: 'r'; id: string; ok: true; value: unknown }
  | { k: 'r'; id: string; ok: false; code: string; message: string }
  | { k: 'e'; from: string; kind: string; body: unknown };

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One node of a cluster. Timers run on real time (a cluster is real infrastructure, whatever
 * clock the rooms use) and are unref'd so they never hold a process open.
 */
export class ClusterNode {
  private readonly options: Required<Omit<ClusterOptions, 'publicUrl'>>;
  private readonly pending = new Map<string, Pending>();
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly unsubscribe: Array<() => Promise<void>> = [];
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private offReconnect: (() => void) | null = null;
  private url = '';
  private startedAt = 0;
  private beats = 0;
  private lastBeatFailed = false;
  private beating: Promise<void> | null = null;
  private stopped = false;
  private seq = 0;

  constructor(private readonly deps: ClusterNodeDeps) {
    const given = deps.options ?? {};
    this.options = {
      capacity: given.capacity ?? CLUSTER_DEFAULTS.capacity,
      tags: given.tags ?? {},
      heartbeatMs: given.heartbeatMs ?? CLUSTER_DEFAULTS.heartbeatMs,
      nodeTtlMs: given.nodeTtlMs ?? CLUSTER_DEFAULTS.nodeTtlMs,
      requestTimeoutMs: given.requestTimeoutMs ?? CLUSTER_DEFAULTS.requestTimeoutMs,
      lostRoomTtlMs: given.lostRoomTtlMs ?? CLUSTER_DEFAULTS.lostRoomTtlMs,
    };
    if (this.options.nodeTtlMs < 2 * this.options.heartbeatMs) {
      throw new NetloomError(
        'request_invalid',
        'cluster.nodeTtlMs must be at least twice cluster.heartbeatMs',
      );
    }
  }

  get id(): string {
    return this.deps.nodeId;
  }

  /** This node's public base URL ('' before `start`). */
  get publicUrl(): string {
    return this.url;
  }

  /** Subscribes to this node's channel and the cluster's, registers, and starts heartbeating. */
  async start(publicUrl: string): Promise<void> {
    const { backend, nodeId } = this.deps;
    this.url = publicUrl.replace(/\/$/, '');
    this.startedAt = Date.now();
    this.unsubscribe.push(await backend.subscribe(`node:${nodeId}`, (m) => this.receive(m)));
    this.unsubscribe.push(await backend.subscribe('all', (m) => this.receive(m)));
    await this.beat();
    this.heartbeatTimer = setInterval(() => void this.beat(), this.options.heartbeatMs);
    this.heartbeatTimer.unref?.();
    this.offReconnect = backend.onReconnect(() => void this.beat());
  }

  /** Stops heartbeating and leaves the registry (its rooms are removed by their disposal). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.offReconnect?.();
    await this.beating?.catch(() => undefined);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new NetloomError('server_shutdown', 'this node is shutting down'));
    }
    this.pending.clear();
    if (this.url !== '') await this.deps.backend.deregister(this.deps.nodeId).catch(() => undefined);
    for (const off of this.unsubscribe.splice(0)) await off().catch(() => undefined);
  }

  /** Adds requests this node answers, by operation name. */
  handle(handlers: Record<string, RequestHandler>): void {
    for (const [op, handler] of Object.entries(handlers)) this.handlers.set(op, handler);
  }

  /** Why an unregistered room is gone (`lost` with a dead node, `ended` match), while remembered. */
  roomGone(roomId: string): Promise<'lost' | 'ended' | null> {
    return this.deps.backend.roomGone(roomId);
  }

  /** Live nodes of the cluster. */
  nodes(): Promise<NodeRecord[]> {
    return this.deps.backend.nodes();
  }

  /**
   * The node a new room of `type` with `tags` should go to: among live nodes that run the type and
   * whose tags agree with the room's, the lowest `load / capacity`, then the fewest rooms, then
   * this node. This node when the registry cannot be read, or when it lists no fit and this node
   * fits; else `room_type_unknown` (no node runs the type) or `node_unavailable` (tags disagree).
   */
  async pick(type: string, tags: RoomTags = {}): Promise<string> {
    let nodes: NodeRecord[];
    try {
      nodes = await this.deps.backend.nodes();
    } catch {
      return this.deps.nodeId;
    }
    let best: NodeRecord | null = null;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const node of nodes) {
      if (!node.roomTypes.includes(type) || !tagsAgree(node.tags, tags)) continue;
      const score = node.load / Math.max(1, node.capacity) + node.rooms * 1e-6;
      if (score < bestScore || (score === bestScore && node.id === this.deps.nodeId)) {
        best = node;
        bestScore = score;
      }
    }
    if (best) return best.id;
    // None listed fits (this node may not be registered yet): this node, if it fits.
    if (this.deps.serves(type) && tagsAgree(this.options.tags, tags)) return this.deps.nodeId;
    if (!this.deps.serves(type) && !nodes.some((node) => node.roomTypes.includes(type))) {
      throw new NetloomError('room_type_unknown', `no node runs room type '${type}'`);
    }
    throw new NetloomError('node_unavailable', `no live node runs room type '${type}' with those tags`);
  }

  /**
   * Asks node `nodeId` to run `op` with `body` and resolves with its answer. Rejects with the
   * NetloomError it answered, or `node_unavailable` when no answer comes within the timeout.
   */
  request<T>(nodeId: string, op: string, body: unknown): Promise<T> {
    if (this.stopped)
      return Promise.reject(new NetloomError('server_shutdown', 'this node is shutting down'));
    const id = `${this.deps.nodeId}.${(this.seq++).toString(36)}.${randomBytes(3).toString('hex')}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.deps.metrics.inc('cluster_requests_timed_out');
        reject(new NetloomError('node_unavailable', `node ${nodeId} did not answer '${op}' in time`));
      }, this.options.requestTimeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const wire: Wire = { k: 'q', id, from: this.deps.nodeId, op, body };
      const fail = (err: NetloomError) => {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      };
      this.deps.backend.publish(`node:${nodeId}`, JSON.stringify(wire)).then(
        (receivers) => {
          // Nobody listens on that node's channel: it is gone (not yet reaped), fail now.
          if (receivers === 0) fail(new NetloomError('node_unavailable', `node ${nodeId} is not connected`));
        },
        (err: unknown) => fail(asNetloomError(err)),
      );
      this.deps.metrics.inc('cluster_requests_sent');
    });
  }

  /** Publishes an event to every other node (at most once; fire and forget). */
  async publish(kind: string, body: unknown): Promise<void> {
    const wire: Wire = { k: 'e', from: this.deps.nodeId, kind, body };
    await this.deps.backend.publish('all', JSON.stringify(wire));
  }

  private receive(raw: string): void {
    let wire: Wire;
    try {
      wire = JSON.parse(raw) as Wire;
    } catch {
      this.deps.metrics.inc('cluster_messages_invalid');
      return;
    }
    if (typeof wire !== 'object' || wire === null) return;
    if (wire.k === 'r') {
      const waiting = this.pending.get(wire.id);
      if (!waiting) return;
      this.pending.delete(wire.id);
      clearTimeout(waiting.timer);
      if (wire.ok) waiting.resolve(wire.value);
      else
        waiting.reject(new NetloomError(isErrorCode(wire.code) ? wire.code : 'internal_error', wire.message));
    } else if (wire.k === 'q') {
      void this.answer(wire);
    } else if (wire.k === 'e') {
      if (wire.from === this.deps.nodeId) return;
      try {
        this.deps.onEvent({ kind: wire.kind, body: wire.body });
      } catch (err) {
        this.deps.log.error({ err, kind: wire.kind }, 'cluster event handler threw');
      }
    }
  }

  private async answer(q: Extract<Wire, { k: 'q' }>): Promise<void> {
    const handler = this.handlers.get(q.op);
    let reply: Wire;
    try {
      if (!handler) throw new NetloomError('request_invalid', `unknown cluster operation '${q.op}'`);
      reply = { k: 'r', id: q.id, ok: true, value: (await handler(q.body)) ?? null };
    } catch (err) {
      const e = asNetloomError(err);
      reply = { k: 'r', id: q.id, ok: false, code: e.code, message: e.message };
    }
    this.deps.metrics.inc('cluster_requests_answered');
    await this.deps.backend.publish(`node:${q.from}`, JSON.stringify(reply)).catch((err: unknown) => {
      this.deps.log.warn({ err, op: q.op, to: q.from }, 'cluster reply not sent');
    });
  }

  /** One heartbeat (never two at once): register, react to what it found, then reap dead nodes. */
  private beat(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.beating) return this.beating;
    this.beating = this.beatOnce().finally(() => {
      this.beating = null;
    });
    return this.beating;
  }

  private async beatOnce(): Promise<void> {
    const { backend, nodeId, log, metrics } = this.deps;
    const record: NodeRecord = {
      ...this.deps.record(),
      id: nodeId,
      url: this.url,
      capacity: this.options.capacity,
      tags: this.options.tags,
      startedAt: this.startedAt,
    };
    try {
      const state = await backend.heartbeat(record, this.options.nodeTtlMs);
      const first = this.beats++ === 0;
      if (state === 'reaped') {
        metrics.inc('cluster_node_reaped_self');
        log.error(
          { nodeId },
          'the cluster took this node for dead and freed its seats; its rooms end (room_lost)',
        );
        this.deps.loseRooms();
      } else if ((state === 'new' && !first) || this.lastBeatFailed) {
        metrics.inc('cluster_registry_synced');
        log.warn({ nodeId, state }, 'the cluster registry may have missed changes: re-publishing rooms');
        await this.deps.syncRooms();
      }
      this.lastBeatFailed = false;
      for (const reaped of await backend.reapLostNodes(this.options.lostRoomTtlMs)) {
        metrics.inc('cluster_nodes_reaped');
        metrics.inc('cluster_rooms_lost', reaped.roomIds.length);
        log.warn(
          { lostNode: reaped.nodeId, rooms: reaped.roomIds.length },
          'reaped a node that stopped heartbeating',
        );
      }
    } catch (err) {
      this.lastBeatFailed = true;
      metrics.error('driver_unavailable');
      log.warn({ err }, 'cluster heartbeat failed');
    }
  }
}

/** True when, for every key both carry, the node's tag and the room's tag agree. */
function tagsAgree(nodeTags: RoomTags, roomTags: RoomTags): boolean {
  for (const key of Object.keys(nodeTags)) {
    if (Object.hasOwn(roomTags, key) && roomTags[key] !== nodeTags[key]) return false;
  }
  return true;
}

/** Any failure as a NetloomError: what a peer node answers, or `driver_unavailable` for the store. */
function asNetloomError(err: unknown): NetloomError {
  if (err instanceof NetloomError) return err;
  return new NetloomError('internal_error', err instanceof Error ? err.message : String(err));
}
