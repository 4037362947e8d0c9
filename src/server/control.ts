// ControlPlane: room creation, joinOrCreate and seat reservations on top of a Driver and a RoomRunner.
import { NetloomError } from '../codec/errors.js';
import type { Clock } from '../shared/clock.js';
import type { Driver, RoomRecord } from './drivers/driver.js';
import type { Logger, Metrics } from './metrics.js';
import type { AnyProtocol, RoomDefinition } from './rooms/define.js';
import type { MemberPort, RoomHost, RoomRunner } from './rooms/host.js';
import { randomRoomId } from './rooms/ids.js';
import { randomId, type SeatSigner } from './seats.js';

/** What a client needs to take a reserved seat. */
export interface SeatReservation {
  roomId: string;
  roomType: string;
  /** The signed, single-use seat token to present in HELLO or JOIN. */
  seat: string;
  /** Expiry of the token, ms since the epoch. */
  expiresAt: number;
}

export interface ControlPlaneDeps {
  rooms: Record<string, RoomDefinition<AnyProtocol, unknown, unknown>>;
  driver: Driver;
  runner: RoomRunner;
  signer: SeatSigner;
  nodeId: string;
  clock: Clock;
  /** Wall clock for token expiry (ms since the epoch); injectable for tests. */
  now: () => number;
  seatTtlMs: number;
  log: Logger;
  metrics: Metrics;
}

/** The in-process side of the control plane; HTTP routes and the backend SDK both call it. */
export class ControlPlane {
  private readonly hosts = new Map<string, RoomHost>();
  private readonly typeLocks = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: ControlPlaneDeps) {}

  /** Room types this node serves. */
  get types(): string[] {
    return Object.keys(this.deps.rooms);
  }

  /** Running room on this node, if any. */
  host(roomId: string): RoomHost | undefined {
    return this.hosts.get(roomId);
  }

  /** Creates a room of `type`; `options` reach its onCreate. */
  async create(type: string, options?: unknown): Promise<RoomRecord> {
    const definition = this.definition(type);
    const id = randomRoomId();
    const { driver, nodeId, clock, metrics } = this.deps;
    await driver.createRoom({
      id,
      type,
      nodeId,
      maxClients: definition.maxClients ?? 16,
      createdAt: this.deps.now(),
    });
    let host: RoomHost;
    try {
      host = await this.deps.runner.start({
        id,
        type,
        definition,
        options,
        clock,
        log: this.deps.log.child({ roomId: id, roomType: type }),
        metrics,
        onSeatFreed: (seatId) => void driver.releaseSeat(id, seatId),
        onDisposed: () => {
          this.hosts.delete(id);
          metrics.inc('rooms_disposed');
          void driver.removeRoom(id);
        },
      });
    } catch (err) {
      await driver.removeRoom(id);
      throw err;
    }
    this.hosts.set(id, host);
    metrics.inc('rooms_created');
    const record = await driver.getRoom(id, this.deps.now());
    if (!record) throw new NetloomError('room_not_found', 'room vanished while being created');
    return record;
  }

  /**
   * Reserves a seat in the oldest room of `type` with space, creating a room when none has;
   * runs the room's onAuth. Calls for one type are serialised so that concurrent requests fill
   * a free seat before a new room is made.
   */
  joinOrCreate(type: string, joinData?: unknown): Promise<SeatReservation> {
    this.definition(type);
    const run = async (): Promise<SeatReservation> => {
      const seatId = randomId();
      const expiresAt = this.deps.now() + this.deps.seatTtlMs;
      let roomId = await this.deps.driver.reserveSeatInAny(
        type,
        this.deps.nodeId,
        seatId,
        expiresAt,
        this.deps.now(),
      );
      if (roomId === null) {
        const record = await this.create(type);
        const result = await this.deps.driver.reserveSeat(record.id, seatId, expiresAt, this.deps.now());
        if (result !== 'ok') throw new NetloomError('room_full', `new room refused the seat: ${result}`);
        roomId = record.id;
      }
      return this.authorize(roomId, type, seatId, expiresAt, joinData);
    };
    const previous = this.typeLocks.get(type) ?? Promise.resolve();
    const next = previous.then(run, run);
    this.typeLocks.set(
      type,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Reserves a seat in a given room (join by id, or a backend handing out seats). */
  async reserve(
    roomId: string,
    joinData?: unknown,
    options: { ttlMs?: number } = {},
  ): Promise<SeatReservation> {
    const host = this.hosts.get(roomId);
    if (!host || host.disposed) throw new NetloomError('room_not_found', `no room ${roomId} on this node`);
    const seatId = randomId();
    const expiresAt = this.deps.now() + (options.ttlMs ?? this.deps.seatTtlMs);
    const result = await this.deps.driver.reserveSeat(roomId, seatId, expiresAt, this.deps.now());
    if (result === 'full') throw new NetloomError('room_full', 'room is full');
    if (result === 'locked') throw new NetloomError('room_locked', 'room is locked');
    if (result === 'not_found') throw new NetloomError('room_not_found', `no room ${roomId}`);
    return this.authorize(roomId, host.type, seatId, expiresAt, joinData);
  }

  /** Verifies a seat token, redeems it once, and seats the client in its room. */
  async redeem(
    token: string,
    sessionId: string,
    port: MemberPort,
  ): Promise<{ room: RoomHost; clientId: string; roomType: string }> {
    const claims = this.deps.signer.verify(token, this.deps.now(), this.deps.nodeId);
    const host = this.hosts.get(claims.r);
    if (!host || host.disposed) throw new NetloomError('room_not_found', 'the room of this seat is gone');
    const result = await this.deps.driver.redeemSeat(claims.r, claims.s, this.deps.now());
    if (result === 'used') throw new NetloomError('seat_used', 'seat token was already used');
    if (result === 'expired') throw new NetloomError('seat_expired', 'seat reservation has lapsed');
    if (result === 'not_found') throw new NetloomError('room_not_found', 'the room of this seat is gone');
    const client = await host.admit(claims.s, sessionId, port);
    return { room: host, clientId: client.id, roomType: host.type };
  }

  list(type?: string): Promise<RoomRecord[]> {
    return this.deps.driver.listRooms(type, this.deps.now());
  }

  get(roomId: string): Promise<RoomRecord | null> {
    return this.deps.driver.getRoom(roomId, this.deps.now());
  }

  /** Disposes every room on this node. */
  close(): void {
    for (const host of [...this.hosts.values()]) host.dispose();
  }

  private async authorize(
    roomId: string,
    type: string,
    seatId: string,
    expiresAt: number,
    joinData: unknown,
  ): Promise<SeatReservation> {
    const host = this.hosts.get(roomId);
    if (!host) throw new NetloomError('room_not_found', `no room ${roomId} on this node`);
    try {
      await host.authorize(seatId, joinData, expiresAt);
    } catch (err) {
      await this.deps.driver.releaseSeat(roomId, seatId);
      throw err;
    }
    const seat = this.deps.signer.sign({ r: roomId, t: type, s: seatId, n: this.deps.nodeId, e: expiresAt });
    return { roomId, roomType: type, seat, expiresAt };
  }

  private definition(type: string): RoomDefinition<AnyProtocol, unknown, unknown> {
    const definition = Object.hasOwn(this.deps.rooms, type) ? this.deps.rooms[type] : undefined;
    if (!definition) throw new NetloomError('room_type_unknown', `no room type '${type}'`);
    return definition;
  }
}
