// The matchmaker benchmarks' tickets (4-player arena matches by region, mode and skill, one in ten a party of two) and stand-in room deps.
import type { MatchmakerDeps } from '../src/server/matchmaker/types.js';
import type { Metrics } from '../src/server/metrics.js';
import { silentLogger } from '../src/server/metrics.js';
import type { Clock } from '../src/shared/clock.js';
import type { MatchTicketRequest } from '../src/shared/matchmaking.js';
import { mulberry32 } from '../src/shared/random.js';

const regions = ['eu', 'us', 'asia', 'sa'];
const modes = ['duel', 'squad', 'ffa'];

/** A seeded generator of ticket requests, and its random source (for other choices the bench makes). */
export function ticketWorkload(seed = 42): { request(): MatchTicketRequest; random(): number } {
  const random = mulberry32(seed);
  return {
    random,
    request() {
      const region = regions[Math.floor(random() * regions.length)];
      const mode = modes[Math.floor(random() * modes.length)];
      const skill = Math.round(1500 + (random() + random() + random() - 1.5) * 800);
      const party = random() < 0.1 ? ['a', 'b'] : undefined;
      return {
        roomType: 'arena',
        properties: { region, mode, skill },
        query: { region, mode, skill: { min: skill - 100, max: skill + 100 } },
        minPlayers: 4,
        maxPlayers: 4,
        ...(party ? { party } : {}),
      };
    },
  };
}

/** Matchmaker deps whose rooms cost nothing (numbered ids, a fixed seat): the benches time matching and delivery only. */
export function standInDeps(clock: Clock, metrics: Metrics): MatchmakerDeps {
  let rooms = 0;
  return {
    clock,
    log: silentLogger,
    metrics,
    capacity: (type) => (type === 'arena' ? 16 : undefined),
    createRoom: async () => ({ id: `r${++rooms}` }),
    reserveSeat: async (roomId) => ({
      roomId,
      roomType: 'arena',
      seat: 'token',
      expiresAt: 0,
      transports: { websocket: '/netloom/ws' },
    }),
  };
}
