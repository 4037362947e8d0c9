// Client copies of a room's member list and key-value state, kept from the server's Presence and RoomState messages.
import { NetloomError } from '../codec/errors.js';
import type { PresenceMember, StateChange } from '../codec/frames.js';

import type { JsonValue } from './rooms-api.js';

export type { JsonValue };

/** One member of a room, as presence reports it. */
export interface RoomMember {
  readonly clientId: string;
  /** The authenticated user id; undefined for anonymous play. */
  readonly userId: string | undefined;
}

/** A `presence` event: who joined and who left since the last one. Never empty. */
export interface PresenceEvent {
  joins: RoomMember[];
  leaves: RoomMember[];
}

/** A `state-change` event: one key of the room's state changed. */
export interface StateChangeEvent {
  key: string;
  /** The new value (deeply frozen); undefined when the key was deleted. */
  value: JsonValue | undefined;
  previous: JsonValue | undefined;
  /** True when the change comes from a full snapshot (sent when the client joins). */
  reset: boolean;
}

/** Read-only view of a room's key-value state on the client (`room.state`). */
export interface RoomStateView {
  get(key: string): JsonValue | undefined;
  has(key: string): boolean;
  keys(): string[];
  entries(): Array<[string, JsonValue]>;
  readonly size: number;
}

/** The member list: the join snapshot, then diffs. */
export class MemberList {
  private readonly byId = new Map<string, RoomMember>();

  /** Members in the order this client learned of them (join order). */
  get list(): RoomMember[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  get(clientId: string): RoomMember | undefined {
    return this.byId.get(clientId);
  }

  /** Applies a diff; returns what actually changed, or null when nothing did. */
  apply(joins: PresenceMember[], leaves: string[]): PresenceEvent | null {
    const event: PresenceEvent = { joins: [], leaves: [] };
    for (const id of leaves) {
      const member = this.byId.get(id);
      if (!member) continue;
      this.byId.delete(id);
      event.leaves.push(member);
    }
    for (const j of joins) {
      if (this.byId.has(j.clientId)) continue;
      const member = Object.freeze({ clientId: j.clientId, userId: j.userId === '' ? undefined : j.userId });
      this.byId.set(j.clientId, member);
      event.joins.push(member);
    }
    return event.joins.length > 0 || event.leaves.length > 0 ? event : null;
  }
}

/** The key-value state, with JSON text kept to spot changes that change nothing. */
export class StateMirror implements RoomStateView {
  private readonly byKey = new Map<string, { json: string; value: JsonValue }>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): JsonValue | undefined {
    return this.byKey.get(key)?.value;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  entries(): Array<[string, JsonValue]> {
    return [...this.byKey].map(([k, e]) => [k, e.value]);
  }

  /**
   * Applies a RoomState message. `reset` drops every key first. Returns one event per key whose
   * value changed, and a `payload_invalid` error per value that is not JSON (that key is skipped).
   */
  apply(reset: boolean, changes: StateChange[]): { events: StateChangeEvent[]; errors: NetloomError[] } {
    const events: StateChangeEvent[] = [];
    const errors: NetloomError[] = [];
    const before = new Map<string, { json: string; value: JsonValue }>();
    if (reset) {
      for (const [key, e] of this.byKey) before.set(key, e);
      this.byKey.clear();
    }
    const touched = new Set<string>(reset ? before.keys() : []);
    for (const { key, value } of changes) {
      if (!before.has(key) && !touched.has(key)) {
        const old = this.byKey.get(key);
        if (old) before.set(key, old);
      }
      touched.add(key);
      if (value === null) {
        this.byKey.delete(key);
        continue;
      }
      let parsed: JsonValue;
      try {
        parsed = JSON.parse(value) as JsonValue;
      } catch {
        errors.push(new NetloomError('payload_invalid', `room state key '${key}' is not JSON`));
        continue;
      }
      this.byKey.set(key, { json: value, value: deepFreeze(parsed) });
    }
    for (const key of touched) {
      const was = before.get(key);
      const now = this.byKey.get(key);
      if (was?.json === now?.json) continue;
      events.push({ key, value: now?.value, previous: was?.value, reset });
    }
    return { events, errors };
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
