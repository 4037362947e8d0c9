// Checks for what callers attach to rooms (tags, JSON data) and seat lifetimes, with bounded defaults.
import { NetloomError } from '../../codec/errors.js';
import type { RoomTags } from '../drivers/driver.js';
import type { Json } from '../identity.js';

/** Bounds on room metadata; every one is an option (`NetloomOptions.roomMetadata`). */
export interface RoomMetadataLimits {
  /** Most tags on a room or in a filter (default 16). */
  maxTags: number;
  /** Longest tag key or value, in characters (default 128). */
  maxTagChars: number;
  /** Largest `data`, as JSON bytes (default 4,096). */
  maxDataBytes: number;
}

export const DEFAULT_ROOM_METADATA_LIMITS: RoomMetadataLimits = {
  maxTags: 16,
  maxTagChars: 128,
  maxDataBytes: 4_096,
};

/** Longest seat reservation a caller may ask for (one hour). */
export const MAX_SEAT_TTL_MS = 3_600_000;

/** A plain copy of `value` if it is a string→string map within limits; else `request_invalid`. */
export function checkTags(value: unknown, limits: RoomMetadataLimits, what = 'tags'): RoomTags {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new NetloomError('request_invalid', `${what} must be an object of strings`);
  }
  const entries = Object.entries(value);
  if (entries.length > limits.maxTags) {
    throw new NetloomError('request_invalid', `${what}: at most ${limits.maxTags} tags`);
  }
  const out: RoomTags = {};
  for (const [key, tag] of entries) {
    if (typeof tag !== 'string') throw new NetloomError('request_invalid', `${what}.${key} must be a string`);
    if (key.length === 0 || key.length > limits.maxTagChars || tag.length > limits.maxTagChars) {
      throw new NetloomError(
        'request_invalid',
        `${what}: keys 1..${limits.maxTagChars} chars, values ≤ ${limits.maxTagChars}`,
      );
    }
    // defineProperty: a key named `__proto__` stays a plain tag instead of changing the prototype.
    Object.defineProperty(out, key, { value: tag, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A copy of `value` if it is JSON within `maxDataBytes` (undefined → null); else `request_invalid`. */
export function checkData(value: unknown, limits: RoomMetadataLimits): Json {
  if (value === undefined) return null;
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    throw new NetloomError('request_invalid', 'room data is not JSON-serialisable');
  }
  if (json === undefined) throw new NetloomError('request_invalid', 'room data is not JSON');
  if (Buffer.byteLength(json, 'utf8') > limits.maxDataBytes) {
    throw new NetloomError('request_invalid', `room data exceeds ${limits.maxDataBytes} bytes as JSON`);
  }
  return JSON.parse(json) as Json;
}

/** `ttlMs` if it is a whole number of ms in 1..MAX_SEAT_TTL_MS, the default when absent; else `request_invalid`. */
export function checkTtl(ttlMs: unknown, fallback: number): number {
  if (ttlMs === undefined) return fallback;
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_SEAT_TTL_MS) {
    throw new NetloomError('request_invalid', `ttlMs must be an integer in 1..${MAX_SEAT_TTL_MS}`);
  }
  return ttlMs;
}
