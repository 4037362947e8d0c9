// The README's JWT example: an `authenticate` option that verifies an HS256 bearer token with jose.
import { jwtVerify } from 'jose';
import { type Authenticate, NetloomError } from '../../src/server/index.js';

/** Accepts `Authorization: Bearer <jwt>` signed with `secret`; `sub` becomes the user id. */
export function jwtAuthenticate(secret: Uint8Array): Authenticate {
  return async (request) => {
    const header = request.headers.authorization;
    if (!header?.startsWith('Bearer ')) return null; // → 401 auth_required
    // jwtVerify throws on a bad signature, an expired token or garbage → 401 auth_invalid
    const { payload } = await jwtVerify(header.slice('Bearer '.length), secret, { algorithms: ['HS256'] });
    if (typeof payload.sub !== 'string') throw new NetloomError('auth_invalid', 'token has no subject');
    return {
      userId: payload.sub,
      data: { name: String(payload.name ?? ''), role: String(payload.role ?? 'player') },
    };
  };
}
