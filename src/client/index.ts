// netloom/client: the browser (and Node) client — Client, Room, and the shared error type.

export { type ErrorCode, isErrorCode, NetloomError } from '../codec/errors.js';
export { type ConditionedLink, type ConditionerOptions, conditionLink } from '../link/conditioner.js';
export type { Link, LinkStats, TransportName } from '../link/link.js';
export { Client, type ClientOptions, type JoinOptions, type JoinTicket } from './client.js';
export type { ReconnectOptions } from './connection.js';
export {
  ROOM_EVENTS,
  Room,
  type RoomEvents,
  type RoomLifecycleEvents,
  type RoomSendOptions,
  type RoomStats,
} from './room.js';
export type { WebSocketConstructor } from './transports/websocket.js';
