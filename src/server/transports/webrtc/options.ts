// Options of the server's WebRTC peers (ICE addresses, ports, limits), their defaults, and the werift configuration.
import { isIP } from 'node:net';
import type { RTCPeerConnectionConfig } from 'werift';
import { NetloomError } from '../../../codec/errors.js';

/** A STUN or TURN server, as in RTCConfiguration.iceServers. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface WebRtcServerOptions {
  /** Extra host addresses to announce (servers behind NAT / in containers), e.g. ['203.0.113.7']; default []. */
  announcedAddresses?: string[];
  /**
   * Also announce 127.0.0.1, so that a browser or bot on the same machine connects over loopback (Chromium
   * does only with `--allow-loopback-in-peer-connection`). Default true: harmless for remote clients, whose
   * checks to their own loopback go nowhere; set false to keep it out of answers.
   */
  announceLoopback?: boolean;
  /** UDP port range for ICE, e.g. [40000, 40100]; default: any. */
  portRange?: [number, number];
  /** Gather IPv6 host candidates too. Default false. */
  ipv6?: boolean;
  /** STUN/TURN servers handed to clients (the server itself never contacts any it is not told to). Default []. */
  iceServers?: IceServer[];
  /** Time for datachannels to open, from `createServerPeer` (create it when the offer arrives). Default 10,000 ms. */
  connectTimeoutMs?: number;
  /** Largest offer SDP accepted, in UTF-8 bytes. Default 16 KiB. */
  maxSdpBytes?: number;
  /** Remote candidates accepted per peer, in the offer and trickled together. Default 64. */
  maxCandidates?: number;
  /** Unreliable frames are dropped when the datachannels' bufferedAmount exceeds this (default 64 KiB). */
  unreliableDropBytes?: number;
  /** A reliable send that would buffer more than this closes the link with `slow_consumer`. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Largest frame accepted from the client (and sent to it). Default 65,536. */
  maxFrameBytes?: number;
  /** After a local close, time the close notice gets to reach the client before the peer connection is torn down. Default 1,000 ms. */
  closeGraceMs?: number;
  /**
   * An open link closes with `link_closed` when the client sends no ICE consent check (RFC 7675: browsers
   * and werift send one about every 5 s) for this long: a client that vanished without a close (tab
   * killed, network gone) is otherwise never noticed by an ICE-lite werift peer. Keep it well above 5 s.
   * Default 30,000 ms; 0 = off.
   */
  consentTimeoutMs?: number;
}

export type ResolvedWebRtcServerOptions = Required<WebRtcServerOptions>;

export const WEBRTC_SERVER_DEFAULTS: ResolvedWebRtcServerOptions = {
  announcedAddresses: [],
  announceLoopback: true,
  portRange: [0, 0],
  ipv6: false,
  iceServers: [],
  connectTimeoutMs: 10_000,
  maxSdpBytes: 16 * 1024,
  maxCandidates: 64,
  unreliableDropBytes: 64 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxFrameBytes: 65_536,
  closeGraceMs: 1_000,
  consentTimeoutMs: 30_000,
};

const ICE_URL = /^(stun|stuns|turn|turns):[^\s]{1,500}$/;

/** Checks options and fills in defaults; throws `request_invalid` naming the bad option. */
export function resolveWebRtcServerOptions(options: WebRtcServerOptions = {}): ResolvedWebRtcServerOptions {
  const bad = (what: string): never => {
    throw new NetloomError('request_invalid', `WebRTC server option ${what}`);
  };
  const out: ResolvedWebRtcServerOptions = { ...WEBRTC_SERVER_DEFAULTS };
  for (const [key, value] of Object.entries(options) as [keyof WebRtcServerOptions, unknown][]) {
    if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
  }
  if (!Array.isArray(out.announcedAddresses) || out.announcedAddresses.some((a) => isIP(String(a)) === 0))
    bad('announcedAddresses must be a list of IP addresses');
  if (!out.ipv6 && out.announcedAddresses.some((a) => isIP(a) === 6))
    bad('announcedAddresses has an IPv6 address but ipv6 is false');
  if (options.portRange !== undefined) {
    const [min, max] = out.portRange;
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65_535 || min >= max)
      bad('portRange must be [min, max] with 1 <= min < max <= 65535');
  }
  if (!Array.isArray(out.iceServers)) bad('iceServers must be a list');
  for (const server of out.iceServers) {
    const urls = typeof server?.urls === 'string' ? [server.urls] : server?.urls;
    if (
      !Array.isArray(urls) ||
      urls.length === 0 ||
      urls.some((u) => typeof u !== 'string' || !ICE_URL.test(u))
    )
      bad('iceServers[].urls must be stun:/turn: URLs');
  }
  for (const key of [
    'connectTimeoutMs',
    'maxSdpBytes',
    'maxCandidates',
    'unreliableDropBytes',
    'maxBufferedBytes',
    'maxFrameBytes',
    'closeGraceMs',
    'consentTimeoutMs',
  ] as const) {
    const value = out[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      bad(`${key} must be a number >= 0`);
  }
  return out;
}

/**
 * werift's configuration for a server peer. ICE-lite: werift gathers host candidates only and never
 * queries a STUN server (without it werift falls back to stun.l.google.com even with `iceServers: []`,
 * and gathering stalls for seconds on a host with a default route). The ICE servers in the options are
 * for clients; the server does not use them.
 */
export function weriftServerConfig(options: ResolvedWebRtcServerOptions): RTCPeerConnectionConfig {
  const additional = [...options.announcedAddresses];
  if (options.announceLoopback) {
    additional.unshift('127.0.0.1');
    if (options.ipv6) additional.push('::1');
  }
  const config: RTCPeerConnectionConfig = {
    iceLite: true,
    iceServers: [],
    iceUseIpv4: true,
    iceUseIpv6: options.ipv6,
    iceAdditionalHostAddresses: [...new Set(additional)],
  };
  if (options.portRange[0] > 0) config.icePortRange = options.portRange;
  return config;
}
