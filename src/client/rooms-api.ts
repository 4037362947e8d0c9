// The client's side of the rooms HTTP API: JSON requests to the control plane and the shapes they return.
import { isErrorCode, NetloomError } from '../codec/errors.js';

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

export interface ControlRequest {
  fetch: typeof fetch | undefined;
  base: URL;
  headers: Record<string, string> | undefined;
}

/**
 * Sends one JSON request to the control plane and returns the parsed reply. A refusal becomes the
 * NetloomError of the reply's `code`; an unreachable server becomes `link_error`.
 */
export async function controlRequest<T>(
  req: ControlRequest,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<T> {
  const doFetch = req.fetch ?? globalThis.fetch;
  if (!doFetch) throw new NetloomError('transport_unavailable', 'no fetch available');
  let response: Response;
  try {
    response = await doFetch(new URL(path, req.base), {
      method,
      headers:
        body === undefined ? { ...req.headers } : { 'content-type': 'application/json', ...req.headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new NetloomError(
      'link_error',
      `control plane unreachable: ${err instanceof Error ? err.message : err}`,
    );
  }
  const json = (await response.json().catch(() => null)) as
    | (T & { code?: unknown; message?: unknown })
    | null;
  if (!response.ok || json === null) {
    const code = typeof json?.code === 'string' && isErrorCode(json.code) ? json.code : 'internal_error';
    throw new NetloomError(
      code,
      typeof json?.message === 'string' ? json.message : `HTTP ${response.status}`,
    );
  }
  return json;
}

/** `?type=arena&tags[mode]=duel`: the querystring GET `{prefix}/rooms` reads. */
export function roomListQuery(type?: string, tags?: Record<string, string>): string {
  const query = new URLSearchParams();
  if (type !== undefined) query.set('type', type);
  for (const [key, value] of Object.entries(tags ?? {})) query.set(`tags[${key}]`, value);
  const text = query.toString();
  return text ? `?${text}` : '';
}
