// netloom/client: the browser (and Node) client — Client, Room, and the shared error type.
export { Client, type ClientOptions, type JoinOptions, type JoinTicket } from './client.js';
export { Room, ROOM_EVENTS, type RoomEvents, type RoomLifecycleEvents, type RoomStats, type RoomSendOptions } from './room.js';
export type { ReconnectOptions } from './connection.js';
export type { WebSocketConstructor } from './transports/websocket.js';
export type { TransportName } from '../link/link.js';
export { NetloomError, type ErrorCode, isErrorCode } from '../codec/errors.js';
