// Join → all direct links up: members join one new peers room at once; times until every member sees every peer on a direct link.
import { joinRoom, type Member, until } from './members.js';
import { MESH_ROOM } from './protocol.js';

export interface JoinRound {
  /** First join request → every member has every peer on `direct`. */
  allDirectMs: number;
  /** First join request → every member's join resolved. */
  allJoinedMs: number;
  /** Per pair: the later member's join resolved → both sides saw `direct`. */
  pairMs: number[];
}

/** Pair set-up times of joined members (each pair once). */
function pairTimes(members: Member[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < members.length; i++) {
    for (let j = i + 1; j < members.length; j++) {
      const a = members[i];
      const b = members[j];
      const up = Math.max(a.firstDirect.get(b.id) ?? Number.NaN, b.firstDirect.get(a.id) ?? Number.NaN);
      out.push(up - Math.max(a.joinedAt, b.joinedAt));
    }
  }
  return out;
}

/** One round in a new `mesh` room of `count` members; returns the members still joined (the caller closes them). */
export async function joinRound(
  url: string,
  count: number,
  timeoutMs = 30_000,
): Promise<{ round: JoinRound; members: Member[] }> {
  const { members, startedAt } = await joinRoom(url, MESH_ROOM, count);
  try {
    await until(
      () => members.every((m) => m.allDirectAt !== null),
      timeoutMs,
      `all ${count} members on direct links`,
    );
  } catch (err) {
    const direct = members.map((m) => [...m.paths.values()].filter((p) => p === 'direct').length);
    throw new Error(`${(err as Error).message} (direct links per member: ${direct.join(',')})`);
  }
  const round: JoinRound = {
    allDirectMs: Math.max(...members.map((m) => m.allDirectAt ?? Number.NaN)) - startedAt,
    allJoinedMs: Math.max(...members.map((m) => m.joinedAt)) - startedAt,
    pairMs: pairTimes(members),
  };
  return { round, members };
}
