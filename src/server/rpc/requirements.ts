// RPC requirements: predicates over the caller's identity and session data, with names for introspection.
import type { Identity } from '../identity.js';
import type { DataKey, DataValue, SessionDataView } from '../session-data.js';

/** Who is calling an endpoint. */
export interface RpcCaller {
  /** The caller's session id; undefined for a call over HTTP. */
  readonly sessionId: string | undefined;
  /** The identity of the session (from its seat) or of the HTTP request (from `authenticate`). */
  readonly identity: Identity | undefined;
  /** The session's data; over HTTP, a read-only view of `auth.userId` and `auth.roles` from the identity. */
  readonly data: SessionDataView;
  /** How the call arrived. */
  readonly transport: 'session' | 'http';
}

/**
 * A predicate the caller must meet. Return false to refuse with `requirement_failed`, or throw a
 * NetloomError to refuse with its code. Give it a `requirementName` (or build it with `requirement`)
 * to name it in introspection and refusals.
 */
export type Requirement = ((caller: RpcCaller) => boolean | Promise<boolean>) & {
  readonly requirementName?: string;
};

/** Names a predicate, for introspection and refusal messages. */
export function requirement(
  name: string,
  test: (caller: RpcCaller) => boolean | Promise<boolean>,
): Requirement {
  const fn = ((caller: RpcCaller) => test(caller)) as Requirement;
  Object.defineProperty(fn, 'requirementName', { value: name });
  return fn;
}

/** The name of a requirement: its `requirementName`, else its function name, else `requirement #i`. */
export function requirementName(req: Requirement, index: number): string {
  return (
    req.requirementName ?? (req.name && req.name !== 'anonymous' ? req.name : `requirement #${index + 1}`)
  );
}

/** The caller has an identity (it authenticated). */
export function authenticated(): Requirement {
  return requirement('authenticated', (caller) => caller.identity !== undefined);
}

/** The caller's `auth.roles` session data contains `role`. */
export function hasRole(role: string): Requirement {
  return requirement(`hasRole(${role})`, (caller) => {
    const roles = caller.data.get('auth.roles');
    return Array.isArray(roles) && roles.includes(role);
  });
}

/** The caller's session data has `key`, and `test` (if given) accepts its value. */
export function hasData<K extends DataKey>(key: K, test?: (value: DataValue<K>) => boolean): Requirement {
  const name = typeof key === 'string' ? key : key.key;
  return requirement(`hasData(${name})`, (caller) => {
    const value = caller.data.get(key);
    if (value === undefined) return false;
    return test ? test(value) : true;
  });
}

/** The call came over a session (not over HTTP). */
export function viaSession(): Requirement {
  return requirement('viaSession', (caller) => caller.transport === 'session');
}
