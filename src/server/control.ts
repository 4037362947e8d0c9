// ControlPlane: rooms (create, list, lock, destroy), joinOrCreate and seat reservations on a Driver and a RoomRunner.
import { NetloomError } from '../codec/errors.js';
import { KeyedQueue } from '../shared/keyed-queue.js';
import type { RunningRoom } from './cluster/types.js';
import {
  checkData,
  checkTags,
  checkTtl,
  DEFAULT_ROOM_METADATA_LIMITS,
  type RoomMetadataLimits,
} from './control/room-meta.js';
import {
  authorizeSeat,
  type RedeemedSeat,
  redeemSeat,
  reserveSeat,
  type SeatContext,
} from './control/seats.js';
import type {
  CheckedJoin,
  ControlPlaneDeps,
  CreateRoomOptions,
  JoinOrCreateOptions,
  RedeemOptions,
  ReserveOptions,
  SeatReservation,
  SharedRooms,
} from './control/types.js';
import type { NewRoom, RoomFilter, RoomRecord } from './drivers/driver.js';
import { checkIdentity, type Identity } from './identity.js';
import type { AnyProtocol, RoomDefinition } from './rooms/define.js';
import type { MemberPort, RoomHost } from './rooms/host.js';
import { randomRoomId } from './rooms/ids.js';
import type { RoomMember } from './rooms/presence.js';
import { EndedRooms } from './rooms/tombstones.js';
import { randomId } from './seats.js';

export type {
  CheckedJoin,
  ControlPlaneDeps,
  CreateRoomOptions,
  JoinOrCreateOptions,
  RedeemOptions,
  ReserveOptions,
  SeatHolder,
  SeatReservation,
  SharedRooms,
} from './control/types.js';

/** The in-process side of the control plane; HTTP routes and the backend SDK both call it. */
export class ControlPlane {
  private readonly hosts = new Map<string, RoomHost>();
  /** What each running room was registered with (to put it back if the shared store loses it). */
  private readonly registered = new Map<string, NewRoom>();
  private readonly typeQueue = new KeyedQueue();
  /** Resolvers waiting (in `close`) for the last room to finish disposing. */
  private readonly emptyWaiters: Array<() => void> = [];
  private readonly meta: RoomMetadataLimits;
  private readonly maxRoomsPerType: number;
  private readonly ended: EndedRooms;
  /** What the seat path (control/seats.ts) reads from this plane. */
  private readonly seats: SeatContext;
  /** Set by a cluster: ended matches and shared room state also go to the other nodes. */
  shared: SharedRooms | null = null;

  constructor(private readonly deps: ControlPlaneDeps) {
    this.ended = new EndedRooms(deps.clock, deps.endedRooms);
    this.meta = { ...DEFAULT_ROOM_METADATA_LIMITS, ...deps.roomMetadata };
    this.maxRoomsPerType = deps.maxRoomsPerType ?? 1_000;
    this.seats = { deps, ended: this.ended, live: (roomId) => this.live(roomId) };
  }

  /** Room types this node serves. */
  get types(): string[] {
    return Object.keys(this.deps.rooms);
  }

  /** Bounds on tags and data (the HTTP schemas use the same numbers). */
  get metadataLimits(): RoomMetadataLimits {
    return this.meta;
  }

  /** Running room on this node, if any. */
  host(roomId: string): RoomHost | undefined {
    return this.hosts.get(roomId);
  }

  /**
   * Creates a room of `type`. Throws `room_type_unknown`, `room_limit` (too many rooms of the type),
   * `request_invalid` (tags or data out of bounds), or what the room's onCreate throws.
   */
  async create(type: string, create: CreateRoomOptions = {}, unlisted = false): Promise<RoomRecord> {
    const definition = this.definition(type);
    const tags = checkTags(create.tags, this.meta);
    const data = checkData(create.data, this.meta);
    const id = randomRoomId();
    const { driver, nodeId, clock, metrics } = this.deps;
    const newRoom: NewRoom = {
      id,
      type,
      nodeId,
      maxClients: definition.maxClients ?? 16,
      createdAt: this.deps.now(),
      tags,
      data,
      private: create.private === true,
    };
    // `unlisted`: registered private until the caller took its seat (see createAndSeat).
    const created = await driver.createRoom(
      unlisted ? { ...newRoom, private: true } : newRoom,
      this.maxRoomsPerType,
    );
    if (created === 'limit') {
      metrics.inc('rooms_refused_limit');
      throw new NetloomError('room_limit', `at most ${this.maxRoomsPerType} rooms of type '${type}'`);
    }
    if (created === 'exists') throw new NetloomError('internal_error', 'room id collision');
    let host: RoomHost;
    try {
      host = await this.deps.runner.start({
        id,
        type,
        definition,
        options: create.options,
        clock,
        now: this.deps.now,
        log: this.deps.log.child({ roomId: id, roomType: type }),
        metrics,
        tags,
        setListing: async (change) => {
          if (change.locked !== undefined) newRoom.locked = change.locked;
          if (change.private !== undefined) newRoom.private = change.private;
          if (change.locked !== undefined) await driver.setLocked(id, change.locked);
          if (change.private !== undefined) await driver.setPrivate(id, change.private);
        },
        onStateChanged: (changes) => this.shared?.state(id, changes),
        onSeatFreed: (seatId) => {
          driver.releaseSeat(id, seatId).catch((err: unknown) => this.driverFailed('releaseSeat', id, err));
        },
        onDisposed: () => {
          this.hosts.delete(id);
          this.registered.delete(id);
          if (definition.tombstone) {
            this.ended.add(id);
            this.shared?.ended(id);
          }
          metrics.inc('rooms_disposed');
          driver.removeRoom(id).catch((err: unknown) => this.driverFailed('removeRoom', id, err));
          if (this.hosts.size === 0) for (const resolve of this.emptyWaiters.splice(0)) resolve();
        },
      });
    } catch (err) {
      await driver.removeRoom(id);
      throw err;
    }
    this.hosts.set(id, host);
    this.registered.set(id, newRoom);
    metrics.inc('rooms_created');
    const record = await driver.getRoom(id, this.deps.now());
    if (!record) throw new NetloomError('room_not_found', 'room vanished while being created');
    return record;
  }

  /**
   * Reserves a seat in the oldest public, unlocked room of `type` whose tags include `tags` and
   * that has a free seat, creating a room (with those tags) when none has; runs the room's onAuth.
   * Calls for one type are serialised on this node, so concurrent requests fill a free seat before
   * a new room is made, whatever tags they ask for.
   */
  joinOrCreate(type: string, join: JoinOrCreateOptions = {}): Promise<SeatReservation> {
    let checked: CheckedJoin;
    try {
      checked = this.checkJoin(type, join);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.serialized(type, async () => {
      const seatId = randomId();
      const expiresAt = this.deps.now() + checked.ttlMs;
      const roomId = await this.deps.driver.reserveSeatInAny(
        { type, tags: checked.tags },
        this.deps.nodeId,
        seatId,
        expiresAt,
        this.deps.now(),
      );
      if (roomId === null) return this.createAndSeat(type, checked, seatId, expiresAt, join.joinData);
      return this.authorizeSeat(roomId, type, seatId, expiresAt, join.joinData, checked.identity);
    });
  }

  /** Runs `run` after every earlier call for `type` on this node settled (joinOrCreate's ordering). */
  serialized<T>(type: string, run: () => Promise<T>): Promise<T> {
    return this.typeQueue.run(type, run);
  }

  /** Validates a joinOrCreate's type, tags, identity and seat lifetime (throws NetloomError). */
  checkJoin(type: string, join: JoinOrCreateOptions): CheckedJoin {
    this.definition(type);
    return {
      tags: checkTags(join.tags, this.meta),
      identity: join.identity === undefined ? undefined : checkIdentity(join.identity),
      ttlMs: checkTtl(join.ttlMs, this.deps.seatTtlMs),
    };
  }

  /** Creates a room of `type` on this node with `join.tags`, reserves `seatId` in it and runs onAuth. */
  async createAndSeat(
    type: string,
    join: CheckedJoin,
    seatId: string,
    expiresAt: number,
    joinData: unknown,
  ): Promise<SeatReservation> {
    // The room stays unlisted until this seat is reserved: in a cluster, other nodes' joinOrCreate
    // would otherwise fill it first.
    const record = await this.create(type, { tags: join.tags }, true);
    const { driver } = this.deps;
    const result = await driver.reserveSeat(record.id, seatId, expiresAt, this.deps.now());
    if (result !== 'ok') throw new NetloomError('room_full', `new room refused the seat: ${result}`);
    if (this.registered.get(record.id)?.private === false) await driver.setPrivate(record.id, false);
    return this.authorizeSeat(record.id, type, seatId, expiresAt, joinData, join.identity);
  }

  /** Reserves a seat in a given room (join by id, or a backend handing out seats); private rooms too. */
  reserve(roomId: string, reserve: ReserveOptions = {}): Promise<SeatReservation> {
    return reserveSeat(this.seats, roomId, reserve);
  }

  /**
   * Verifies a seat token, redeems it once, and seats the client in its room. Refusals, in the order
   * checked: `seat_invalid`, `seat_forged`, `seat_expired` (token), `seat_wrong_node`,
   * `seat_wrong_room` (not `expectedRoomId`), `forbidden` (the holder is another user),
   * `room_not_found`, `seat_used` (replayed), `seat_expired` (reservation lapsed).
   */
  redeem(
    token: string,
    sessionId: string,
    port: MemberPort,
    options: RedeemOptions = {},
  ): Promise<RedeemedSeat> {
    return redeemSeat(this.seats, token, sessionId, port, options);
  }

  /** Public rooms matching `filter` with their counts, oldest first (private rooms never appear). */
  async list(filter: RoomFilter = {}): Promise<RoomRecord[]> {
    const tags = filter.tags === undefined ? undefined : checkTags(filter.tags, this.meta);
    return this.deps.driver.listRooms({ type: filter.type, tags }, this.deps.now());
  }

  get(roomId: string): Promise<RoomRecord | null> {
    return this.deps.driver.getRoom(roomId, this.deps.now());
  }

  /** Locks or unlocks a room (a locked room takes no new seats). Throws `room_not_found`. */
  async setLocked(roomId: string, locked: boolean): Promise<RoomRecord> {
    const registered = this.registered.get(roomId);
    if (registered) registered.locked = locked;
    if (!(await this.deps.driver.setLocked(roomId, locked))) {
      throw new NetloomError('room_not_found', `no room ${roomId}`);
    }
    return this.mustGet(roomId);
  }

  /** Makes a room private (unlisted, unmatched) or public again. Throws `room_not_found`. */
  async setPrivate(roomId: string, isPrivate: boolean): Promise<RoomRecord> {
    const registered = this.registered.get(roomId);
    if (registered) registered.private = isPrivate;
    if (!(await this.deps.driver.setPrivate(roomId, isPrivate))) {
      throw new NetloomError('room_not_found', `no room ${roomId}`);
    }
    return this.mustGet(roomId);
  }

  /**
   * Disposes a room on this node: its clients leave with code `room_disposed`, onDispose runs, and
   * it is gone from lists when this resolves. Throws `room_not_found` for a room this node does not run.
   */
  async destroy(roomId: string): Promise<void> {
    const host = this.live(roomId);
    if (!host) throw new NetloomError('room_not_found', `no room ${roomId} on this node`);
    host.dispose();
    await this.deps.driver.removeRoom(roomId);
  }

  /** Rooms running on this node as they were registered, with their members' seats (for a restore). */
  running(): RunningRoom[] {
    const out: RunningRoom[] = [];
    for (const [id, room] of this.registered) {
      const host = this.live(id);
      if (!host) continue;
      const shared = this.definition(room.type).sharedState === true;
      out.push({ room, seated: host.seatIds(), ...(shared ? { state: host.stateJson() } : {}) });
    }
    return out;
  }

  /** A room's members, or null when it does not run on this node. */
  members(roomId: string): RoomMember[] | null {
    return this.live(roomId)?.memberList() ?? null;
  }

  /** A room's state (JSON text by key), or null when it does not run on this node. */
  state(roomId: string): Record<string, string> | null {
    return this.live(roomId)?.stateJson() ?? null;
  }

  /** The wall clock of seat expiry (ms since the epoch). */
  now(): number {
    return this.deps.now();
  }

  /** Number of rooms running on this node. */
  get size(): number {
    return this.hosts.size;
  }

  /** Ends every room here with `room_lost`: the cluster took this node for dead and freed its seats. */
  loseAll(): void {
    for (const host of [...this.hosts.values()]) host.dispose('lost');
  }

  /** Disposes every room on this node; resolves once every room has run its onDispose. */
  close(): Promise<void> {
    for (const host of [...this.hosts.values()]) host.dispose();
    if (this.hosts.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** A background driver write failed (store down): logged and counted; a cluster re-syncs later. */
  private driverFailed(operation: string, roomId: string, err: unknown): void {
    this.deps.metrics.error('driver_unavailable');
    this.deps.log.warn({ err, roomId, operation }, 'driver write failed');
  }

  /** The room running here under `roomId`, unless it is gone or disposing. */
  private live(roomId: string): RoomHost | undefined {
    const host = this.hosts.get(roomId);
    return host && !host.disposed ? host : undefined;
  }

  private async mustGet(roomId: string): Promise<RoomRecord> {
    const record = await this.get(roomId);
    if (!record) throw new NetloomError('room_not_found', `no room ${roomId}`);
    return record;
  }

  /**
   * Runs onAuth of a room on this node for a seat already reserved in the driver, then signs the
   * seat token; a refusal frees the seat.
   */
  authorizeSeat(
    roomId: string,
    type: string,
    seatId: string,
    expiresAt: number,
    joinData: unknown,
    identity: Identity | undefined,
  ): Promise<SeatReservation> {
    return authorizeSeat(this.seats, roomId, type, seatId, expiresAt, joinData, identity);
  }

  private definition(type: string): RoomDefinition<AnyProtocol, unknown, unknown> {
    const definition = Object.hasOwn(this.deps.rooms, type) ? this.deps.rooms[type] : undefined;
    if (!definition) throw new NetloomError('room_type_unknown', `no room type '${type}'`);
    return definition;
  }
}
