// ClusterControl: the rooms API across nodes — places new rooms, routes seats and destroys to the owning node.
import { NetloomError } from '../../codec/errors.js';
import type { JoinOrCreateOptions } from '../control/types.js';
import type {
  CheckedJoin,
  ControlPlane,
  CreateRoomOptions,
  ReserveOptions,
  SeatReservation,
} from '../control.js';
import type { Driver, RoomFilter, RoomRecord } from '../drivers/driver.js';
import type { Identity, Json } from '../identity.js';
import type { RoomMember } from '../rooms/presence.js';
import { randomId } from '../seats.js';
import type { ClusterNode, RequestHandler } from './node.js';

/** What the rooms and seats APIs need of a control plane, local or clustered. */
export interface ControlApi {
  readonly types: string[];
  create(type: string, options?: CreateRoomOptions): Promise<RoomRecord>;
  joinOrCreate(type: string, options?: JoinOrCreateOptions): Promise<SeatReservation>;
  reserve(roomId: string, options?: ReserveOptions): Promise<SeatReservation>;
  get(roomId: string): Promise<RoomRecord | null>;
  list(filter?: RoomFilter): Promise<RoomRecord[]>;
  setLocked(roomId: string, locked: boolean): Promise<RoomRecord>;
  setPrivate(roomId: string, isPrivate: boolean): Promise<RoomRecord>;
  destroy(roomId: string): Promise<void>;
  /** True when the room's node died and the cluster gave the room up (`room_lost`). */
  lost(roomId: string): Promise<boolean>;
  /** The room's members, asked of the node that runs it; null for an unknown room. */
  members(roomId: string): Promise<RoomMember[] | null>;
  /** The room's key-value state; null for an unknown room. */
  state(roomId: string): Promise<Record<string, Json> | null>;
}

/** A seat reservation as its owning node finished it: the connect details are that node's. */
type Ticketed = SeatReservation & { transports?: unknown };

interface SeatRequest {
  roomId: string;
  type: string;
  seatId: string;
  expiresAt: number;
  joinData: unknown;
  identity: Identity | undefined;
}

/**
 * The control plane of one node in a cluster. Rooms are created where placement says (the least
 * loaded node running the type); a seat in a room is authorised (onAuth) and signed by the node
 * that runs it, and the answer carries that node's connect URLs. joinOrCreate looks for a free seat
 * on every node. Calls for one type are serialised per node only: two nodes that find no free seat
 * at the same moment may each create a room (seats are still never over-filled).
 */
export class ClusterControl implements ControlApi {
  constructor(
    private readonly control: ControlPlane,
    private readonly driver: Driver,
    private readonly node: ClusterNode,
    /** Adds this node's connect details to a reservation made here. */
    private readonly ticket: (r: SeatReservation) => Ticketed,
  ) {}

  get types(): string[] {
    return this.control.types;
  }

  /** What other nodes may ask of this one. */
  handlers(): Record<string, RequestHandler> {
    const control = this.control;
    return {
      create: async (body) => {
        const b = body as { type: string; options: CreateRoomOptions };
        return control.create(b.type, b.options);
      },
      'join-or-create': async (body) => {
        const b = body as { type: string; options: JoinOrCreateOptions };
        // A seat reserved here gets this node's connect details; one from elsewhere has its own.
        return this.ticket(await this.joinOrCreate(b.type, b.options));
      },
      'create-and-seat': async (body) => {
        const b = body as {
          type: string;
          join: CheckedJoin;
          seatId: string;
          expiresAt: number;
          joinData: unknown;
        };
        return this.ticket(await control.createAndSeat(b.type, b.join, b.seatId, b.expiresAt, b.joinData));
      },
      authorize: async (body) => {
        const b = body as SeatRequest;
        return this.ticket(
          await control.authorizeSeat(b.roomId, b.type, b.seatId, b.expiresAt, b.joinData, b.identity),
        );
      },
      reserve: async (body) => {
        const b = body as { roomId: string; options: ReserveOptions };
        return this.ticket(await control.reserve(b.roomId, b.options));
      },
      destroy: async (body) => control.destroy((body as { roomId: string }).roomId),
      members: async (body) => control.members((body as { roomId: string }).roomId),
      state: async (body) => control.state((body as { roomId: string }).roomId),
    };
  }

  async create(type: string, options: CreateRoomOptions = {}): Promise<RoomRecord> {
    const target = await this.node.pick(type, options.tags);
    if (target === this.node.id) return this.control.create(type, options);
    return this.node.request<RoomRecord>(target, 'create', { type, options });
  }

  async joinOrCreate(type: string, options: JoinOrCreateOptions = {}): Promise<SeatReservation> {
    if (!this.control.types.includes(type)) {
      // Not a type this node runs: hand the whole request to a node that does.
      const target = await this.node.pick(type, options.tags);
      if (target === this.node.id) throw new NetloomError('room_type_unknown', `no room type '${type}'`);
      return this.node.request<SeatReservation>(target, 'join-or-create', { type, options });
    }
    const checked = this.control.checkJoin(type, options);
    return this.control.serialized(type, async () => {
      const seatId = randomId();
      const now = this.control.now();
      const expiresAt = now + checked.ttlMs;
      const roomId = await this.driver.reserveSeatInAny(
        { type, tags: checked.tags },
        null,
        seatId,
        expiresAt,
        now,
      );
      if (roomId !== null) {
        const seat = {
          roomId,
          type,
          seatId,
          expiresAt,
          joinData: options.joinData,
          identity: checked.identity,
        };
        return this.authorizeOnOwner(seat);
      }
      const target = await this.node.pick(type, checked.tags);
      if (target === this.node.id) {
        return this.control.createAndSeat(type, checked, seatId, expiresAt, options.joinData);
      }
      return this.node.request<SeatReservation>(target, 'create-and-seat', {
        type,
        join: checked,
        seatId,
        expiresAt,
        joinData: options.joinData,
      });
    });
  }

  async reserve(roomId: string, options: ReserveOptions = {}): Promise<SeatReservation> {
    const owner = await this.owner(roomId);
    if (owner === null || owner === this.node.id) return this.control.reserve(roomId, options);
    return this.node.request<SeatReservation>(owner, 'reserve', { roomId, options });
  }

  get(roomId: string): Promise<RoomRecord | null> {
    return this.control.get(roomId);
  }

  list(filter?: RoomFilter): Promise<RoomRecord[]> {
    return this.control.list(filter);
  }

  setLocked(roomId: string, locked: boolean): Promise<RoomRecord> {
    return this.control.setLocked(roomId, locked);
  }

  setPrivate(roomId: string, isPrivate: boolean): Promise<RoomRecord> {
    return this.control.setPrivate(roomId, isPrivate);
  }

  async destroy(roomId: string): Promise<void> {
    const owner = await this.owner(roomId);
    if (owner === null || owner === this.node.id) return this.control.destroy(roomId);
    await this.node.request(owner, 'destroy', { roomId });
  }

  async lost(roomId: string): Promise<boolean> {
    return (await this.node.roomGone(roomId)) === 'lost';
  }

  async members(roomId: string): Promise<RoomMember[] | null> {
    const owner = await this.owner(roomId).catch(() => null);
    if (owner === null || owner === this.node.id) return this.control.members(roomId);
    return this.node.request<RoomMember[] | null>(owner, 'members', { roomId });
  }

  async state(roomId: string): Promise<Record<string, Json> | null> {
    const owner = await this.owner(roomId).catch(() => null);
    let json: Record<string, string> | null;
    if (owner === null || owner === this.node.id) json = this.control.state(roomId);
    else json = await this.node.request<Record<string, string> | null>(owner, 'state', { roomId });
    return json === null ? null : parseState(json);
  }

  /**
   * The node running `roomId`; null when the registry does not know it (then the local control
   * plane answers with the precise code). Throws `room_lost` for a room of a dead node.
   */
  private async owner(roomId: string): Promise<string | null> {
    if (this.control.host(roomId)) return this.node.id;
    const record = await this.driver.getRoom(roomId, this.control.now());
    if (record) return record.nodeId;
    const gone = await this.node.roomGone(roomId);
    if (gone === 'lost') throw new NetloomError('room_lost', `room ${roomId} was lost with its node`);
    if (gone === 'ended') throw new NetloomError('match_ended', `match ${roomId} has ended`);
    return null;
  }

  /** Runs onAuth on the room's node for a seat reserved here; the seat is freed when that fails. */
  private async authorizeOnOwner(seat: SeatRequest): Promise<SeatReservation> {
    const record = await this.driver.getRoom(seat.roomId, this.control.now());
    const owner = record?.nodeId ?? this.node.id;
    if (owner === this.node.id) {
      return this.control.authorizeSeat(
        seat.roomId,
        seat.type,
        seat.seatId,
        seat.expiresAt,
        seat.joinData,
        seat.identity,
      );
    }
    try {
      return await this.node.request<SeatReservation>(owner, 'authorize', seat);
    } catch (err) {
      // The owner refused (onAuth) or is gone: the seat must not stay reserved.
      if (err instanceof NetloomError && err.code === 'node_unavailable') {
        await this.driver.releaseSeat(seat.roomId, seat.seatId).catch(() => undefined);
      }
      throw err;
    }
  }
}

/** State as JSON text by key, parsed (a value that does not parse is left out). */
export function parseState(json: Record<string, string>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [key, text] of Object.entries(json)) {
    try {
      out[key] = JSON.parse(text) as Json;
    } catch {
      // Not written by netloom: skip.
    }
  }
  return out;
}
