// netloom/signaling: the typed messages that set up WebRTC peers (the relay hub arrives with the WebRTC transport).

/** Who a signaling message is for: the server's own peer, or another member of the same room. */
export type SignalTarget = { to: 'server' } | { to: 'peer'; roomId: string; clientId: string };

/** An SDP offer or answer. */
export interface SessionDescriptionSignal {
  kind: 'offer' | 'answer';
  sdp: string;
}

/** One ICE candidate (null `candidate` = end of candidates). */
export interface CandidateSignal {
  kind: 'candidate';
  candidate: string | null;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/** Ask the other side for an ICE restart, or close the peer connection. */
export interface ControlSignal {
  kind: 'restart' | 'close';
  reason?: string;
}

export type SignalMessage = SessionDescriptionSignal | CandidateSignal | ControlSignal;

/** Largest SDP accepted by default, in bytes. */
export const DEFAULT_MAX_SDP_BYTES = 16_384;
