// Short random ids for room clients and rooms (URL-safe, from the platform's CSPRNG).
import { randomBytes } from 'node:crypto';

export function randomClientId(): string {
  return randomBytes(6).toString('base64url');
}

export function randomRoomId(): string {
  return randomBytes(9).toString('base64url');
}
