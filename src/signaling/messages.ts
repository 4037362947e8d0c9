// Signaling message types (offer, answer, candidate, restart, close) with a strict JSON validator and size limits.
import { type ErrorCode, isErrorCode, NetloomError } from '../codec/errors.js';

/** An ICE server handed to clients (STUN or TURN), as in the browser's RTCIceServer. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** The client's SDP offer (client → server). */
export interface OfferSignal {
  kind: 'offer';
  sdp: string;
}

/** The server's SDP answer (server → client). */
export interface AnswerSignal {
  kind: 'answer';
  sdp: string;
}

/** One trickled ICE candidate; `candidate: null` means "no more candidates". */
export interface CandidateSignal {
  kind: 'candidate';
  candidate: string | null;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/** Tear the current peer connection down; a new offer may follow. */
export interface RestartSignal {
  kind: 'restart';
  reason?: string;
}

/** The sender closed its peer connection; `code` says why when it was refused or failed. */
export interface CloseSignal {
  kind: 'close';
  code?: ErrorCode | 'normal';
  reason?: string;
}

export type SignalMessage = OfferSignal | AnswerSignal | CandidateSignal | RestartSignal | CloseSignal;

/** Kept for code written against the first draft of this module. */
export type SessionDescriptionSignal = OfferSignal | AnswerSignal;
/** Kept for code written against the first draft of this module. */
export type ControlSignal = RestartSignal | CloseSignal;

/** Bounds on what a signaling message may carry; each has a default. */
export interface SignalLimits {
  /** Largest SDP (offer or answer), in UTF-8 bytes (default 16,384). */
  maxSdpBytes: number;
  /** Largest candidate line, in bytes (default 1,024). */
  maxCandidateBytes: number;
  /** Largest `reason` and `sdpMid`, in bytes (default 256). */
  maxTextBytes: number;
}

/** Largest SDP accepted by default, in bytes. */
export const DEFAULT_MAX_SDP_BYTES = 16_384;

export const DEFAULT_SIGNAL_LIMITS: SignalLimits = {
  maxSdpBytes: DEFAULT_MAX_SDP_BYTES,
  maxCandidateBytes: 1_024,
  maxTextBytes: 256,
};

const KEYS: Record<SignalMessage['kind'], { required: string[]; optional: string[] }> = {
  offer: { required: ['sdp'], optional: [] },
  answer: { required: ['sdp'], optional: [] },
  candidate: { required: ['candidate', 'sdpMid', 'sdpMLineIndex'], optional: [] },
  restart: { required: [], optional: ['reason'] },
  close: { required: [], optional: ['code', 'reason'] },
};

const encoder = new TextEncoder();

function utf8Length(text: string): number {
  // Every UTF-16 unit takes at most 3 bytes: skip the encode when even that fits.
  return text.length * 3 <= 64 ? text.length * 3 : encoder.encode(text).length;
}

function invalid(message: string): NetloomError {
  return new NetloomError('signal_invalid', message);
}

function text(value: unknown, field: string, max: number, code: ErrorCode = 'signal_invalid'): string {
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  if (utf8Length(value) > max) {
    const bytes = encoder.encode(value).length;
    if (bytes > max) throw new NetloomError(code, `${field} of ${bytes} bytes exceeds ${max}`);
  }
  return value;
}

function nullableText(value: unknown, field: string, max: number): string | null {
  return value === null ? null : text(value, field, max);
}

/**
 * Parses and checks one signaling payload (JSON text). Throws NetloomError `signal_invalid` for
 * anything that is not exactly one of the message shapes (unknown kind, missing, extra or mistyped
 * fields), and `sdp_too_large` for an SDP over `limits.maxSdpBytes`.
 */
export function parseSignal(payload: string, limits: SignalLimits = DEFAULT_SIGNAL_LIMITS): SignalMessage {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    throw invalid('payload is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('payload must be a JSON object');
  }
  const record = value as Record<string, unknown>;
  const kind = record.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(KEYS, kind)) throw invalid('unknown signal kind');
  const shape = KEYS[kind as SignalMessage['kind']];
  for (const key of Object.keys(record)) {
    if (key !== 'kind' && !shape.required.includes(key) && !shape.optional.includes(key)) {
      throw invalid(`unexpected field ${JSON.stringify(key.slice(0, 32))} in ${kind}`);
    }
  }
  for (const key of shape.required) if (!Object.hasOwn(record, key)) throw invalid(`${kind} lacks ${key}`);
  switch (kind) {
    case 'offer':
    case 'answer': {
      const sdp = text(record.sdp, 'sdp', limits.maxSdpBytes, 'sdp_too_large');
      if (sdp.length === 0) throw invalid('empty sdp');
      return { kind, sdp };
    }
    case 'candidate': {
      const line = record.sdpMLineIndex;
      if (line !== null && !(Number.isInteger(line) && (line as number) >= 0 && (line as number) < 1024)) {
        throw invalid('sdpMLineIndex must be null or a small integer');
      }
      return {
        kind,
        candidate: nullableText(record.candidate, 'candidate', limits.maxCandidateBytes),
        sdpMid: nullableText(record.sdpMid, 'sdpMid', limits.maxTextBytes),
        sdpMLineIndex: line as number | null,
      };
    }
    case 'restart':
      return record.reason === undefined
        ? { kind }
        : { kind, reason: text(record.reason, 'reason', limits.maxTextBytes) };
    default: {
      const out: CloseSignal = { kind: 'close' };
      if (record.code !== undefined) {
        const code = text(record.code, 'code', limits.maxTextBytes);
        out.code = code === 'normal' || isErrorCode(code) ? code : 'internal_error';
      }
      if (record.reason !== undefined) out.reason = text(record.reason, 'reason', limits.maxTextBytes);
      return out;
    }
  }
}

/** The JSON text of a signaling message (the SIGNAL payload). */
export function encodeSignal(message: SignalMessage): string {
  return JSON.stringify(message);
}
