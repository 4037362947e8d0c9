// Test helper: a ControlPlane on the memory driver with the echo room, a manual clock and a settable wall clock.
import { ControlPlane } from '../../src/server/control.js';
import { memoryDriver } from '../../src/server/drivers/memory.js';
import { Metrics, silentLogger } from '../../src/server/metrics.js';
import type { AnyRoomDefinition } from '../../src/server/options.js';
import type { MemberPort } from '../../src/server/rooms/host.js';
import { inProcessRunner } from '../../src/server/rooms/room.js';
import { SeatSigner } from '../../src/server/seats.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createEchoRoom, type EchoLog, newEchoLog } from '../helpers/echo-room.js';

export interface TestPlane {
  control: ControlPlane;
  clock: ManualClock;
  log: EchoLog;
  /** Wall-clock time the plane sees; tests move it. */
  time: { now: number };
}

export function testPlane(
  options: {
    maxClients?: number;
    seatTtlMs?: number;
    maxRoomsPerType?: number;
    nodeId?: string;
    /** More room types beside `echo`. */
    rooms?: Record<string, AnyRoomDefinition>;
  } = {},
): TestPlane {
  const log = newEchoLog();
  const clock = new ManualClock();
  const time = { now: Date.now() };
  const control = new ControlPlane({
    rooms: { echo: createEchoRoom(log, { maxClients: options.maxClients ?? 4 }), ...options.rooms },
    driver: memoryDriver(),
    runner: inProcessRunner,
    signer: new SeatSigner('a test secret of enough bytes'),
    nodeId: options.nodeId ?? 'node-a',
    clock,
    now: () => time.now,
    seatTtlMs: options.seatTtlMs ?? 30_000,
    maxRoomsPerType: options.maxRoomsPerType,
    log: silentLogger,
    metrics: new Metrics(),
  });
  return { control, clock, log, time };
}

/** A member port that records what the room ended it with. */
export function testPort(): MemberPort & { endedWith: string[] } {
  const endedWith: string[] = [];
  return {
    endedWith,
    send() {},
    ended(code) {
      endedWith.push(code);
    },
    presence() {},
    state() {},
  };
}
