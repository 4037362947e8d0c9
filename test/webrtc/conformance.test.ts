// WebRTC link: the Link conformance suite over a werift client peer and an ICE-lite werift server peer on loopback.
import { describeLinkConformance } from '../link/conformance.js';
import { createWebRtcPair } from './pair.js';

describeLinkConformance('webrtc (werift client <-> werift ICE-lite server)', () => createWebRtcPair());
