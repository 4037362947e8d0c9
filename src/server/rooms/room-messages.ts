// A room's client-message dispatch table: its handlers indexed by op, and the shared `meta` objects they receive.
import type { AnyProtocol, RoomClient, RoomDefinition } from './define.js';
import type { RoomRuntime } from './room.js';

export type AnyDefinition = RoomDefinition<AnyProtocol, unknown, unknown>;

export type MessageHandler = (
  room: RoomRuntime,
  client: RoomClient<unknown>,
  message: unknown,
  meta: { reliable: boolean },
) => void;

/** The `meta` argument of message handlers: two shared frozen objects, so a message allocates none. */
export const RELIABLE_META = Object.freeze({ reliable: true });
export const UNRELIABLE_META = Object.freeze({ reliable: false });

/** The room's message handlers indexed by the client message's op (found once, not by name per message). */
export function handlersByOp(def: AnyDefinition): (MessageHandler | undefined)[] {
  const handlers = def.messages as Record<string, MessageHandler | undefined> | undefined;
  const table: (MessageHandler | undefined)[] = [];
  for (const { name, op } of def.protocol.client.messages) {
    const handler = handlers && Object.hasOwn(handlers, name) ? handlers[name] : undefined;
    if (typeof handler === 'function') table[op] = handler;
  }
  return table;
}
