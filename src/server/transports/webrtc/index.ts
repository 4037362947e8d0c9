// The server's WebRTC transport: ICE-lite werift peers whose two datachannels form a Link.
export {
  type IceServer,
  type ResolvedWebRtcServerOptions,
  resolveWebRtcServerOptions,
  WEBRTC_SERVER_DEFAULTS,
  type WebRtcServerOptions,
  weriftServerConfig,
} from './options.js';
export { createServerPeer, openServerPeerCount, type ServerPeer } from './peer.js';
export {
  type CandidateInit,
  type CheckedOffer,
  checkCandidate,
  checkOffer,
  MAX_CANDIDATE_CHARS,
  parseCandidateLine,
} from './sdp.js';
