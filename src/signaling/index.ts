// netloom/signaling: the typed messages that set up WebRTC peers, their validator, the hub that routes them and the per-session state machine.
export { SERVER_PEER, SignalHub, type SignalHubOptions, type SignalRoute, type SignalSource } from './hub.js';
export {
  type AnswerSignal,
  type CandidateSignal,
  type CloseSignal,
  type ControlSignal,
  DEFAULT_MAX_SDP_BYTES,
  DEFAULT_SIGNAL_LIMITS,
  encodeSignal,
  type IceServer,
  type OfferSignal,
  parseSignal,
  type RestartSignal,
  type SessionDescriptionSignal,
  type SignalLimits,
  type SignalMessage,
} from './messages.js';
export {
  DEFAULT_SIGNAL_STATE_LIMITS,
  SignalState,
  type SignalStateLimits,
  type UpgradePhase,
} from './state.js';
