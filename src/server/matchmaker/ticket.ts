// Matchmaking tickets: size limits and the validation that turns an untrusted request into a normalized ticket.
import { NetloomError } from '../../codec/errors.js';
import type { MatchTicketRequest } from '../../shared/matchmaking.js';

/** Size limits on one ticket; each is an option (`matchmaker.limits`). */
export interface TicketLimits {
  /** Most entries in `properties`, and separately in `query` (default 32). */
  maxProperties: number;
  /** Longest property or query key (default 64 characters). */
  maxKeyLength: number;
  /** Longest string value in `properties` or `query` (default 256 characters). */
  maxStringLength: number;
  /** Longest room type name (default 128 characters). */
  maxRoomTypeLength: number;
  /** Longest user id in `party` (default 128 characters). */
  maxUserIdLength: number;
}

export const DEFAULT_TICKET_LIMITS: TicketLimits = {
  maxProperties: 32,
  maxKeyLength: 64,
  maxStringLength: 256,
  maxRoomTypeLength: 128,
  maxUserIdLength: 128,
};

/** A numeric range with both bounds filled in (open bounds are infinite). */
export interface Range {
  key: string;
  min: number;
  max: number;
}

/** A validated ticket in the shape the matching algorithm reads fast. */
export interface NormalizedTicket {
  roomType: string;
  properties: Map<string, string | number>;
  /** String-equality conditions of the query. */
  equals: Array<[key: string, value: string]>;
  /** Numeric-range conditions of the query. */
  ranges: Range[];
  minPlayers: number;
  maxPlayers: number;
  countMultiple: number;
  /** Party members' user ids, or undefined for a ticket of one player. */
  party: string[] | undefined;
  /** Players this ticket brings (party size, or 1). */
  players: number;
  /** The submitter's join data, for the room's onAuth. */
  joinData: unknown;
}

export interface ValidateContext {
  limits: TicketLimits;
  /** Most clients a room of `type` holds, or undefined when the server has no such room type. */
  capacity(type: string): number | undefined;
  /** The submitter's user id when the request was authenticated. */
  userId?: string;
}

const TICKET_KEYS = new Set([
  'roomType',
  'properties',
  'query',
  'minPlayers',
  'maxPlayers',
  'countMultiple',
  'party',
  'joinData',
]);

/** Largest `joinData` of a ticket, as JSON (the HTTP body limit bounds it too). */
export const MAX_TICKET_JOIN_DATA_BYTES = 4_096;

function invalid(message: string): never {
  throw new NetloomError('ticket_invalid', message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    invalid(`${name} must be a positive integer`);
  }
  return value;
}

function checkKey(key: string, where: string, limits: TicketLimits): void {
  if (key.length === 0 || key.length > limits.maxKeyLength) {
    invalid(`${where} keys must be 1 to ${limits.maxKeyLength} characters`);
  }
}

function checkString(value: string, where: string, limits: TicketLimits): void {
  if (value.length > limits.maxStringLength) {
    invalid(`${where} strings must be at most ${limits.maxStringLength} characters`);
  }
}

function entriesOf(value: unknown, where: string, limits: TicketLimits): Array<[string, unknown]> {
  if (value === undefined) return [];
  if (!isRecord(value)) invalid(`${where} must be an object`);
  const entries = Object.entries(value);
  if (entries.length > limits.maxProperties) {
    invalid(`${where} may have at most ${limits.maxProperties} entries`);
  }
  return entries;
}

function normalizeProperties(value: unknown, limits: TicketLimits): Map<string, string | number> {
  const properties = new Map<string, string | number>();
  for (const [key, v] of entriesOf(value, 'properties', limits)) {
    checkKey(key, 'properties', limits);
    if (typeof v === 'string') checkString(v, 'properties', limits);
    else if (typeof v !== 'number' || !Number.isFinite(v)) {
      invalid(`property '${key}' must be a string or a finite number`);
    }
    properties.set(key, v);
  }
  return properties;
}

function normalizeQuery(value: unknown, limits: TicketLimits): Pick<NormalizedTicket, 'equals' | 'ranges'> {
  const equals: Array<[string, string]> = [];
  const ranges: Range[] = [];
  for (const [key, v] of entriesOf(value, 'query', limits)) {
    checkKey(key, 'query', limits);
    if (typeof v === 'string') {
      checkString(v, 'query', limits);
      equals.push([key, v]);
      continue;
    }
    if (!isRecord(v)) invalid(`query '${key}' must be a string or a { min, max } range`);
    for (const bound of Object.keys(v)) {
      if (bound !== 'min' && bound !== 'max') invalid(`query '${key}' has an unknown bound '${bound}'`);
    }
    const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY } = v;
    if (v.min !== undefined && (typeof min !== 'number' || !Number.isFinite(min))) {
      invalid(`query '${key}' min must be a finite number`);
    }
    if (v.max !== undefined && (typeof max !== 'number' || !Number.isFinite(max))) {
      invalid(`query '${key}' max must be a finite number`);
    }
    if ((min as number) > (max as number)) invalid(`query '${key}' has min > max`);
    ranges.push({ key, min: min as number, max: max as number });
  }
  return { equals, ranges };
}

function normalizeParty(value: unknown, maxPlayers: number, ctx: ValidateContext): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) invalid('party must be an array of user ids');
  if (value.length === 0) invalid('party must not be empty (leave it out for a solo ticket)');
  if (value.length > maxPlayers) invalid('party is larger than maxPlayers');
  const seen = new Set<string>();
  for (const id of value) {
    if (typeof id !== 'string' || id.length === 0 || id.length > ctx.limits.maxUserIdLength) {
      invalid(`party members must be user ids of 1 to ${ctx.limits.maxUserIdLength} characters`);
    }
    if (seen.has(id)) invalid(`party lists '${id}' twice`);
    seen.add(id);
  }
  if (ctx.userId !== undefined && !seen.has(ctx.userId))
    invalid('the submitter must be a member of the party');
  return [...seen];
}

/** Checks an untrusted ticket request; throws NetloomError `ticket_invalid` saying what is wrong. */
export function validateTicket(input: unknown, ctx: ValidateContext): NormalizedTicket {
  if (!isRecord(input)) invalid('a ticket must be an object');
  for (const key of Object.keys(input)) if (!TICKET_KEYS.has(key)) invalid(`unknown ticket field '${key}'`);
  const request = input as Partial<Record<keyof MatchTicketRequest, unknown>>;
  const { roomType } = request;
  if (
    typeof roomType !== 'string' ||
    roomType.length === 0 ||
    roomType.length > ctx.limits.maxRoomTypeLength
  ) {
    invalid(`roomType must be a string of 1 to ${ctx.limits.maxRoomTypeLength} characters`);
  }
  const capacity = ctx.capacity(roomType);
  if (capacity === undefined) invalid(`no room type '${roomType}'`);
  const minPlayers = positiveInt(request.minPlayers, 'minPlayers');
  const maxPlayers = positiveInt(request.maxPlayers, 'maxPlayers');
  if (minPlayers > maxPlayers) invalid('minPlayers is greater than maxPlayers');
  if (maxPlayers > capacity) invalid(`maxPlayers exceeds the ${capacity} seats of a '${roomType}' room`);
  const countMultiple =
    request.countMultiple === undefined ? 1 : positiveInt(request.countMultiple, 'countMultiple');
  if (Math.floor(maxPlayers / countMultiple) * countMultiple < minPlayers) {
    invalid('no player count in [minPlayers, maxPlayers] is a multiple of countMultiple');
  }
  const party = normalizeParty(request.party, maxPlayers, ctx);
  const players = party?.length ?? 1;
  return {
    roomType,
    properties: normalizeProperties(request.properties, ctx.limits),
    ...normalizeQuery(request.query, ctx.limits),
    minPlayers,
    maxPlayers,
    countMultiple,
    party,
    players,
    joinData: checkJoinData(request.joinData),
  };
}

function checkJoinData(value: unknown): unknown {
  if (value === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    invalid('joinData must be JSON');
  }
  if (json === undefined) invalid('joinData must be JSON');
  if (new TextEncoder().encode(json).length > MAX_TICKET_JOIN_DATA_BYTES) {
    invalid(`joinData is larger than ${MAX_TICKET_JOIN_DATA_BYTES} bytes as JSON`);
  }
  return JSON.parse(json) as unknown;
}

/** Fills in and checks ticket limits given as options; a bad option throws `request_invalid`. */
export function ticketLimits(partial: Partial<TicketLimits> = {}): TicketLimits {
  const limits = { ...DEFAULT_TICKET_LIMITS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new NetloomError('request_invalid', `matchmaker limit ${name} must be a positive integer`);
    }
  }
  return limits;
}
