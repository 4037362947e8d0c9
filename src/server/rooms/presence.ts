// Room presence: the member list, a snapshot for each joining client, and batched join/leave diffs to the others.
import type { PresenceMember } from '../../codec/frames.js';
import type { MemberPort } from './host.js';

/** One member of a room, as presence reports it. */
export interface RoomMember {
  readonly clientId: string;
  /** The authenticated user id; undefined for anonymous play. */
  readonly userId: string | undefined;
}

/** A member's way to its client, looked up at send time (a reconnection replaces the port). */
export interface PresenceTarget {
  readonly clientId: string;
  readonly port: MemberPort;
}

/** Largest presence message body aimed for, in bytes; bigger diffs are split (a frame is at most 64 KiB). */
export const PRESENCE_CHUNK_BYTES = 32_768;

function wireMember(m: RoomMember): PresenceMember {
  return { clientId: m.clientId, userId: m.userId ?? '' };
}

/** UTF-8 length of `s` (lone surrogates count 3, as TextEncoder writes them) plus a length prefix. */
function stringBytes(s: string): number {
  let n = 3;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * Tracks who is in a room. Changes are batched until `flush` (the room calls it before any room
 * message goes out, and a microtask after the first change), so that clients see presence and room
 * messages in the order the room produced them: leaves in one turn make one diff.
 *
 * A joining member gets the whole list (itself included) before its JOINED; the others get the join
 * in the next diff. Pending changes are flushed before each join, so every snapshot is exact (two
 * joins in one turn therefore make two diffs). A member who joins and leaves before the next flush
 * is never announced.
 */
export class PresenceTracker {
  private readonly list = new Map<string, RoomMember>();
  private readonly joins = new Map<string, RoomMember>();
  private readonly leaves = new Set<string>();
  private scheduled = false;

  constructor(
    /** False: nothing is sent to clients (the list is still kept for room code). */
    readonly enabled: boolean,
    private readonly targets: () => Iterable<PresenceTarget>,
  ) {}

  /** Members in join order. */
  get members(): RoomMember[] {
    return [...this.list.values()];
  }

  get size(): number {
    return this.list.size;
  }

  /** Adds a member and sends it the current list. Flushes pending diffs first, so the snapshot is exact. */
  add(member: RoomMember, port: MemberPort): void {
    this.flush();
    this.list.set(member.clientId, member);
    if (!this.enabled) return;
    sendChunked(port, [...this.list.values()].map(wireMember), []);
    this.joins.set(member.clientId, member);
    this.schedule();
  }

  /** Removes a member; the others hear of it in the next diff. */
  remove(clientId: string): void {
    if (!this.list.delete(clientId) || !this.enabled) return;
    // Joined within this batch: nobody else has heard of it, so nothing to announce.
    if (this.joins.delete(clientId)) return;
    this.leaves.add(clientId);
    this.schedule();
  }

  /** Sends the pending diff to every member (each skips its own join, which its snapshot held). */
  flush(): void {
    if (this.joins.size === 0 && this.leaves.size === 0) return;
    const joins = [...this.joins.values()].map(wireMember);
    const leaves = [...this.leaves];
    this.joins.clear();
    this.leaves.clear();
    for (const target of this.targets()) {
      if (!this.list.has(target.clientId)) continue; // not yet added: its snapshot will cover this
      const own = joins.findIndex((j) => j.clientId === target.clientId);
      const forTarget = own < 0 ? joins : joins.filter((_, i) => i !== own);
      if (forTarget.length === 0 && leaves.length === 0) continue;
      sendChunked(target.port, forTarget, leaves);
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
    });
  }
}

/** Sends a presence diff as one message, or several when it would exceed PRESENCE_CHUNK_BYTES. */
function sendChunked(port: MemberPort, joins: PresenceMember[], leaves: string[]): void {
  let j: PresenceMember[] = [];
  let l: string[] = [];
  let bytes = 0;
  const emit = () => {
    port.presence(j, l);
    j = [];
    l = [];
    bytes = 0;
  };
  for (const m of joins) {
    const size = stringBytes(m.clientId) + stringBytes(m.userId);
    if (bytes + size > PRESENCE_CHUNK_BYTES && bytes > 0) emit();
    j.push(m);
    bytes += size;
  }
  for (const id of leaves) {
    const size = stringBytes(id);
    if (bytes + size > PRESENCE_CHUNK_BYTES && bytes > 0) emit();
    l.push(id);
    bytes += size;
  }
  if (j.length > 0 || l.length > 0) emit();
}
