// Node only: werift's RTCPeerConnection adapted for the client peer (bots, tests, load generators). Not for browsers.
import { RTCPeerConnection, type RTCPeerConnectionConfig } from 'werift';
import type { IceServerConfig, RTCPeerConnectionConstructorLike } from './transports/webrtc.js';

export interface NodeWebRtcOptions {
  /**
   * Host addresses to gather candidates on besides the machine's interfaces. Default ['127.0.0.1'], so a
   * bot reaches a server on the same machine (werift skips loopback interfaces otherwise).
   */
  additionalHostAddresses?: string[];
  /** UDP port range for ICE, e.g. [40000, 40100]; default: any. */
  portRange?: [number, number];
  /** Gather IPv6 host candidates too. Default false. */
  ipv6?: boolean;
}

function hasStunServer(servers: IceServerConfig[]): boolean {
  return servers.some((server) =>
    (typeof server.urls === 'string' ? [server.urls] : server.urls).some((url) => /^stuns?:/i.test(url)),
  );
}

/**
 * An RTCPeerConnection constructor for `createClientPeer({ RTCPeerConnection })` in Node. It is werift's,
 * with one fix: werift queries stun.l.google.com whenever no STUN server is configured (even with
 * `iceServers: []`), which contacts an outside host and stalls gathering for seconds where there is a
 * default route. Without a configured STUN server this one gathers host candidates only, as browsers do.
 */
export function weriftPeerConnection(options: NodeWebRtcOptions = {}): RTCPeerConnectionConstructorLike {
  const base: RTCPeerConnectionConfig = {
    iceUseIpv4: true,
    iceUseIpv6: options.ipv6 ?? false,
    iceAdditionalHostAddresses: options.additionalHostAddresses ?? ['127.0.0.1'],
  };
  if (options.portRange) base.icePortRange = options.portRange;

  class NodeRTCPeerConnection extends RTCPeerConnection {
    private readonly stunConfigured: boolean;

    constructor(configuration: { iceServers: IceServerConfig[] }) {
      super({ ...base, iceServers: configuration.iceServers });
      this.stunConfigured = hasStunServer(configuration.iceServers);
    }

    override async createOffer(offerOptions?: { iceRestart?: boolean }) {
      this.withoutStunFallback();
      return super.createOffer(offerOptions);
    }

    override async setRemoteDescription(
      description: Parameters<RTCPeerConnection['setRemoteDescription']>[0],
    ) {
      this.withoutStunFallback();
      await super.setRemoteDescription(description);
      this.withoutStunFallback();
    }

    /** Clears werift's built-in STUN server on every ICE transport before it gathers (public field). */
    private withoutStunFallback(): void {
      if (this.stunConfigured) return;
      for (const transport of this.iceTransports) transport.connection.stunServer = undefined;
    }
  }
  return NodeRTCPeerConnection;
}
