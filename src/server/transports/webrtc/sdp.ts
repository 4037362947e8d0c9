// Checks on what a client sends the server's WebRTC peer: the offer SDP and trickled ICE candidates.
import { isIP } from 'node:net';
import { NetloomError } from '../../../codec/errors.js';

/** A remote ICE candidate as it arrives from signaling (RTCIceCandidateInit). */
export interface CandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** A checked candidate: `end` for end-of-candidates, `mdns` for a `.local` host (never resolved by the server). */
export interface CheckedCandidate {
  init: { candidate: string; sdpMid?: string; sdpMLineIndex?: number };
  end: boolean;
  mdns: boolean;
}

/** Longest candidate line accepted, in characters. */
export const MAX_CANDIDATE_CHARS = 512;

const MDNS_HOST = /^[0-9a-zA-Z-]{1,64}\.local$/;
const FOUNDATION = /^[A-Za-z0-9+/]{1,32}$/;
const EXTENSION_KEY = /^[a-z][a-z0-9-]{0,31}$/;
const EXTENSION_VALUE = /^[\x21-\x7e]{1,64}$/;
/** Printable ASCII, tab, CR and LF: what SDP from browsers and werift is made of. */
const SDP_CHARS = /^[\t\r\n\x20-\x7e]*$/;

function candidateError(message: string): NetloomError {
  return new NetloomError('candidate_invalid', message);
}

function uint(text: string | undefined, max: number): number | null {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return null;
  const value = Number(text);
  return value <= max ? value : null;
}

/**
 * Parses the text of one candidate (`candidate:…`, with or without `a=`). Returns the host, or throws
 * `candidate_invalid`. Grammar (RFC 8839 §5.1): foundation component transport priority address port
 * `typ` type, then key/value extensions (raddr, rport, generation, ufrag, network-id, …).
 */
export function parseCandidateLine(line: string): { host: string; mdns: boolean } {
  const text = line.startsWith('a=') ? line.slice(2) : line;
  if (!text.startsWith('candidate:')) throw candidateError('candidate does not start with "candidate:"');
  const parts = text.slice('candidate:'.length).split(' ');
  if (parts.length < 8 || parts.length % 2 !== 0)
    throw candidateError('candidate has the wrong number of fields');
  const [foundation, component, transport, priority, host, port, typ, type] = parts;
  if (!FOUNDATION.test(foundation)) throw candidateError('candidate foundation is invalid');
  if (uint(component, 256) === null || uint(component, 256) === 0)
    throw candidateError('candidate component is invalid');
  if (!/^(udp|tcp)$/i.test(transport)) throw candidateError('candidate transport is not udp or tcp');
  if (uint(priority, 0xffff_ffff) === null) throw candidateError('candidate priority is invalid');
  const mdns = MDNS_HOST.test(host);
  if (!mdns && isIP(host) === 0)
    throw candidateError('candidate address is not an IP address or an mDNS name');
  if (uint(port, 65_535) === null) throw candidateError('candidate port is invalid');
  if (typ !== 'typ' || !/^(host|srflx|prflx|relay)$/.test(type))
    throw candidateError('candidate type is invalid');
  for (let i = 8; i < parts.length; i += 2) {
    if (!EXTENSION_KEY.test(parts[i]) || !EXTENSION_VALUE.test(parts[i + 1]))
      throw candidateError('candidate extension is invalid');
  }
  return { host, mdns };
}

/** Checks one trickled candidate; throws `candidate_invalid` on anything but a well-formed RTCIceCandidateInit. */
export function checkCandidate(value: unknown): CheckedCandidate {
  if (typeof value !== 'object' || value === null) throw candidateError('candidate is not an object');
  const { candidate, sdpMid, sdpMLineIndex } = value as Record<string, unknown>;
  if (typeof candidate !== 'string') throw candidateError('candidate.candidate is not a string');
  if (candidate.length > MAX_CANDIDATE_CHARS)
    throw candidateError(`candidate longer than ${MAX_CANDIDATE_CHARS} characters`);
  if (
    sdpMid !== undefined &&
    sdpMid !== null &&
    (typeof sdpMid !== 'string' || !/^[\x21-\x7e]{1,32}$/.test(sdpMid))
  )
    throw candidateError('candidate.sdpMid is invalid');
  if (
    sdpMLineIndex !== undefined &&
    sdpMLineIndex !== null &&
    (typeof sdpMLineIndex !== 'number' ||
      !Number.isInteger(sdpMLineIndex) ||
      sdpMLineIndex < 0 ||
      sdpMLineIndex > 63)
  )
    throw candidateError('candidate.sdpMLineIndex is invalid');
  const init: CheckedCandidate['init'] = { candidate };
  if (typeof sdpMid === 'string') init.sdpMid = sdpMid;
  if (typeof sdpMLineIndex === 'number') init.sdpMLineIndex = sdpMLineIndex;
  if (candidate === '') return { init, end: true, mdns: false };
  const { mdns } = parseCandidateLine(candidate);
  return { init, end: false, mdns };
}

/** A checked offer: the SDP to hand to werift (mDNS candidates removed) and how many candidates it had. */
export interface CheckedOffer {
  sdp: string;
  candidates: number;
}

/**
 * Checks an offer SDP: a string within `maxBytes` (`sdp_too_large`), with at most `maxCandidates`
 * candidates (`candidate_limit`), shaped like a datachannel-only offer (`sdp_invalid`: version line, one
 * or more `m=application … DTLS/SCTP` sections and nothing else, ICE credentials and a DTLS fingerprint).
 * Candidates with `.local` (mDNS) hosts are removed: the server is ICE-lite, needs no remote candidates,
 * and must not send mDNS queries on the clients' behalf.
 */
export function checkOffer(value: unknown, maxBytes: number, maxCandidates: number): CheckedOffer {
  const invalid = (message: string) => new NetloomError('sdp_invalid', message);
  if (typeof value !== 'string') throw invalid('offer SDP is not a string');
  // UTF-16 length is a lower bound of the UTF-8 size: reject huge strings before encoding them.
  if (value.length > maxBytes || new TextEncoder().encode(value).byteLength > maxBytes)
    throw new NetloomError('sdp_too_large', `offer SDP larger than ${maxBytes} bytes`);
  if (!SDP_CHARS.test(value)) throw invalid('offer SDP has characters outside printable ASCII');
  const lines = value.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== 'v=0') throw invalid('offer SDP does not start with v=0');
  let sections = 0;
  let candidates = 0;
  let ufrag = false;
  let pwd = false;
  let fingerprint = false;
  const kept: string[] = [];
  for (const line of lines) {
    if (!/^[a-z]=/.test(line)) throw invalid('offer SDP has a line that is not type=value');
    if (line.startsWith('m=')) {
      if (
        !/^m=application \d{1,5} (UDP\/DTLS\/SCTP|DTLS\/SCTP|TCP\/DTLS\/SCTP) webrtc-datachannel$/.test(line)
      )
        throw invalid('offer SDP has a media section that is not a datachannel');
      sections++;
    } else if (line.startsWith('a=candidate:')) {
      candidates++;
      if (candidates > maxCandidates)
        throw new NetloomError('candidate_limit', `offer SDP has more than ${maxCandidates} candidates`);
      let parsed: { mdns: boolean };
      try {
        parsed = parseCandidateLine(line);
      } catch (err) {
        throw invalid(`offer SDP has a bad candidate: ${(err as Error).message}`);
      }
      if (parsed.mdns) continue;
    } else if (line.startsWith('a=ice-ufrag:')) ufrag = true;
    else if (line.startsWith('a=ice-pwd:')) pwd = true;
    else if (line.startsWith('a=fingerprint:')) fingerprint = true;
    kept.push(line);
  }
  if (sections === 0) throw invalid('offer SDP has no datachannel section');
  if (!ufrag || !pwd) throw invalid('offer SDP has no ICE credentials');
  if (!fingerprint) throw invalid('offer SDP has no DTLS fingerprint');
  return { sdp: `${kept.join('\r\n')}\r\n`, candidates };
}
