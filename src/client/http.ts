// The client's one way to call the control plane over HTTP: JSON in, JSON out, refusals as NetloomError.
import { isErrorCode, NetloomError } from '../codec/errors.js';

/** How the client reaches the control plane. */
export interface ControlRequest {
  fetch: typeof fetch | undefined;
  base: URL;
  headers: Record<string, string> | undefined;
}

export interface ControlRequestExtra {
  /** JSON body (sent with `content-type: application/json`). */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Sends one JSON request to the control plane and returns the parsed reply. A refusal becomes the
 * NetloomError of the reply's `code`; an unreachable server becomes `link_error`. An abort through
 * `signal` rethrows the fetch's own AbortError, for the caller to map.
 */
export async function controlRequest<T>(
  req: ControlRequest,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  extra: ControlRequestExtra = {},
): Promise<T> {
  const doFetch = req.fetch ?? globalThis.fetch;
  if (!doFetch) throw new NetloomError('transport_unavailable', 'no fetch available');
  const { body, signal } = extra;
  let response: Response;
  try {
    response = await doFetch(new URL(path, req.base), {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...req.headers,
        ...extra.headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
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
