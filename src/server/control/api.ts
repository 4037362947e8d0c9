// The backend SDK objects `app.netloom.rooms` and `app.netloom.seats`: the ControlPlane plus connect URLs.
import { type ControlApi, parseState } from '../cluster/routed.js';
import type { ControlPlane, SeatReservation } from '../control.js';
import type { JoinTicket, NetloomServerApi } from '../options.js';

/** `app.netloom.rooms`. */
export function roomsApi(
  control: ControlApi,
  ticket: (r: SeatReservation) => JoinTicket,
): NetloomServerApi['rooms'] {
  return {
    create: (type, options) => control.create(type, options),
    joinOrCreate: async (type, options) => ticket(await control.joinOrCreate(type, options)),
    get: (roomId) => control.get(roomId),
    list: (filter) => control.list(filter),
    lock: (roomId) => control.setLocked(roomId, true),
    unlock: (roomId) => control.setLocked(roomId, false),
    setPrivate: (roomId, flag) => control.setPrivate(roomId, flag),
    destroy: (roomId) => control.destroy(roomId),
    lost: (roomId) => control.lost(roomId),
    members: (roomId) => control.members(roomId),
    state: (roomId) => control.state(roomId),
    types: () => control.types,
  };
}

/** `app.netloom.seats`. */
export function seatsApi(
  control: ControlApi,
  ticket: (r: SeatReservation) => JoinTicket,
): NetloomServerApi['seats'] {
  return {
    reserve: async (roomId, options) => ticket(await control.reserve(roomId, options)),
  };
}

/** A single node's control plane as the rooms API sees it (a cluster uses ClusterControl instead). */
export function localControlApi(control: ControlPlane): ControlApi {
  return {
    get types() {
      return control.types;
    },
    create: (type, options) => control.create(type, options),
    joinOrCreate: (type, options) => control.joinOrCreate(type, options),
    reserve: (roomId, options) => control.reserve(roomId, options),
    get: (roomId) => control.get(roomId),
    list: (filter) => control.list(filter),
    setLocked: (roomId, locked) => control.setLocked(roomId, locked),
    setPrivate: (roomId, flag) => control.setPrivate(roomId, flag),
    destroy: (roomId) => control.destroy(roomId),
    lost: async () => false,
    members: async (roomId) => control.members(roomId),
    state: async (roomId) => {
      const json = control.state(roomId);
      return json === null ? null : parseState(json);
    },
  };
}
