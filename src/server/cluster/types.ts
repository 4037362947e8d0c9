// The cluster seam: node registry, lost-node reaping and a message bus that a multi-node driver (Redis) provides.
import type { Redis } from 'ioredis';
import type { NewRoom, RoomTags } from '../drivers/driver.js';

/** One netloom node as the registry sees it (refreshed on every heartbeat). */
export interface NodeRecord {
  id: string;
  /** Public base URL of this node's HTTP server (`http://10.0.0.2:2567`): seats for its rooms point here. */
  url: string;
  /** Room types this node runs. */
  roomTypes: string[];
  /** Operator tags (`{ region: 'eu' }`) that placement can filter on. */
  tags: RoomTags;
  /** Sessions this node is meant to carry; placement prefers the lowest `load / capacity`. */
  capacity: number;
  /** Live sessions now. */
  load: number;
  /** Rooms running now. */
  rooms: number;
  /** Public endpoints per transport: the WebSocket URL, the WebTransport UDP port, whether WebRTC is on. */
  transports: { websocket: string; webtransport?: { port: number }; webrtc?: boolean };
  /** When the node started, ms since the epoch. */
  startedAt: number;
}

/**
 * What a heartbeat found: `ok`; `new` when the node was not registered (its first beat, or the store
 * lost its data: re-publish rooms); `reaped` when others took it for dead meanwhile (its rooms are gone).
 */
export type HeartbeatState = 'ok' | 'new' | 'reaped';

/** A room as its node runs it: its registration, its members' seats and, when shared, its state. */
export interface RunningRoom {
  room: NewRoom;
  seated: string[];
  /** JSON text by key, for rooms with `sharedState`. */
  state?: Record<string, string>;
}

/** What reaping a node that stopped heartbeating did. */
export interface ReapedNode {
  nodeId: string;
  /** Its rooms, now removed from the registry (their seats freed) and remembered as lost. */
  roomIds: string[];
}

/**
 * Shared cluster state and messaging, provided by a driver that spans processes (`redisDriver`
 * exposes it as `driver.cluster`). Every method that changes shared state is one atomic step.
 */
export interface ClusterBackend {
  /** Writes this node's record; it disappears `ttlMs` after the last heartbeat (a key with a TTL). */
  heartbeat(node: NodeRecord, ttlMs: number): Promise<HeartbeatState>;
  /** Removes this node's record at once (clean shutdown); its rooms must be removed by the caller. */
  deregister(nodeId: string): Promise<void>;
  /** Nodes whose heartbeat is live, in id order. */
  nodes(): Promise<NodeRecord[]>;
  /**
   * Takes every registered node whose heartbeat lapsed: removes its rooms (freeing their seats),
   * remembers their ids as lost for `lostTtlMs`, and forgets the node. Atomic: each lost node is
   * returned to exactly one caller, whichever node asks first.
   */
  reapLostNodes(lostTtlMs: number): Promise<ReapedNode[]>;
  /**
   * Makes the registry agree with what node `nodeId` runs (after the store restarted empty, or
   * after writes failed while it was down): rooms it no longer runs are removed, missing ones put
   * back, and each room's seated seats replaced by `seated`. One atomic step.
   */
  syncRooms(nodeId: string, rooms: RunningRoom[]): Promise<void>;
  /**
   * Why a room that is no longer registered is gone, while that is remembered: `lost` with its dead
   * node (see reapLostNodes), `ended` (a relayed match that finished, see markEnded); null otherwise.
   */
  roomGone(roomId: string): Promise<'lost' | 'ended' | null>;
  /** Remembers for `ttlMs` that a relayed match ended, so every node refuses its id with `match_ended`. */
  markEnded(roomId: string, ttlMs: number): Promise<void>;
  /** Applies room state changes (`value` null: key removed) to the room's shared copy, if the room exists. */
  writeState(roomId: string, changes: Array<{ key: string; value: string | null }>): Promise<void>;
  /** The shared copy of a room's state (JSON text by key); null when the room is not registered. */
  readState(roomId: string): Promise<Record<string, string> | null>;
  /** Publishes a message on a channel (at most once, to the nodes subscribed now); resolves with how many got it. */
  publish(channel: string, message: string): Promise<number>;
  /** Subscribes; resolves once subscribed, with a function that unsubscribes. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<() => Promise<void>>;
  /**
   * Runs `listener` each time the connection to the shared store comes back after a loss (Redis
   * restarted): nodes re-register and re-publish their rooms. Returns a function that removes it.
   */
  onReconnect(listener: () => void): () => void;
  /** The Redis client (commands only, never subscribed) for subsystems that keep their own state. */
  readonly redis: Redis;
  /** Key prefix of everything the driver stores (`netloom:`); subsystems put their keys under it. */
  readonly prefix: string;
  /** Closes the subscriber connection (the driver's `close()` calls it). */
  close(): Promise<void>;
}
