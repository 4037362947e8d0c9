// The client's side of the rooms HTTP API: the room listing shape and its querystring.

/** JSON data as the client sees room metadata. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A room as `client.getAvailableRooms()` lists it. */
export interface RoomListing {
  id: string;
  type: string;
  nodeId: string;
  maxClients: number;
  /** Clients seated now. */
  clients: number;
  /** Seats reserved and not yet taken. */
  reserved: number;
  /** A locked room takes no new players. */
  locked: boolean;
  private: boolean;
  tags: Record<string, string>;
  data: JsonValue;
  createdAt: number;
}

/** `?type=arena&tags[mode]=duel`: the querystring GET `{prefix}/rooms` reads. */
export function roomListQuery(type?: string, tags?: Record<string, string>): string {
  const query = new URLSearchParams();
  if (type !== undefined) query.set('type', type);
  for (const [key, value] of Object.entries(tags ?? {})) query.set(`tags[${key}]`, value);
  const text = query.toString();
  return text ? `?${text}` : '';
}
