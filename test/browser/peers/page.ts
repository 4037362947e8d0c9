// Browser side of the peer-assisted test: joins the mesh room and a relayed match, records links, messages and hosts.
import { Client } from '../../../src/client/index.js';
import { meshProtocol } from './protocol.js';

type Path = 'direct' | 'relay';

/** What the Playwright spec drives and reads through `window.__peers`. */
export interface PeersPage {
  self: string;
  links: Record<string, Path>;
  /** Every path change seen, in order. */
  changes: Array<{ id: string; path: Path; at: number }>;
  /** Numbers received on the reliable `seq` stream, by sender. */
  seq: Record<string, number[]>;
  /** Position updates received, by sender and path at arrival. */
  pos: Record<string, number>;
  errors: string[];
  hosts: Array<{ clientId: string; epoch: number }>;
  matchId: string;
  matchSelf: string;
  join(name: string): Promise<string>;
  createMatch(): Promise<string>;
  joinMatch(id: string): Promise<string>;
  /** Sends `count` numbered reliable messages to `to`, `perTick` every 10 ms; resolves when all are queued. */
  stream(to: string, count: number, perTick: number): Promise<void>;
  /** Local ICE ufrags of every peer connection this page made. */
  ufrags(): string[];
  /** Closes the peer connection whose remote ufrag is one of `remote` (a direct link to that page); true if found. */
  kill(remote: string[]): boolean;
}

declare global {
  interface Window {
    __peers: PeersPage;
  }
}

const pcs: RTCPeerConnection[] = [];
class TrackedPeerConnection extends RTCPeerConnection {
  constructor(configuration?: RTCConfiguration) {
    super(configuration);
    pcs.push(this);
  }
}

const ufragOf = (sdp: string | undefined): string | null => /a=ice-ufrag:(\S+)/.exec(sdp ?? '')?.[1] ?? null;

const client = new Client(location.origin, {
  transports: ['websocket'],
  webrtc: { RTCPeerConnection: TrackedPeerConnection },
});

const state: PeersPage = {
  self: '',
  links: {},
  changes: [],
  seq: {},
  pos: {},
  errors: [],
  hosts: [],
  matchId: '',
  matchSelf: '',
  async join(name) {
    const room = await client.joinOrCreate('mesh', { name }, { protocol: meshProtocol });
    const peers = room.peers;
    peers.on('peer-link', ({ id, path }) => {
      state.links[id] = path;
      state.changes.push({ id, path, at: performance.now() });
    });
    peers.on('peer-leave', ({ id }) => {
      delete state.links[id];
    });
    peers.on('peer-error', ({ error }) => state.errors.push(error.code));
    peers.on('seq', (msg, from) => {
      state.seq[from] ??= [];
      state.seq[from].push(msg.n);
    });
    peers.on('pos', (_msg, from) => {
      state.pos[from] = (state.pos[from] ?? 0) + 1;
    });
    state.stream = async (to, count, perTick) => {
      for (let n = 1; n <= count; ) {
        for (let i = 0; i < perTick && n <= count; i++, n++) peers.send(to, 'seq', { n });
        peers.broadcast('pos', { x: n, y: 0 }, { reliable: false });
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    state.self = peers.self;
    return peers.self;
  },
  async createMatch() {
    const match = await client.createMatch();
    watchMatch(match);
    return match.id;
  },
  async joinMatch(id) {
    const match = await client.joinMatch(id);
    watchMatch(match);
    return match.id;
  },
  async stream() {
    throw new Error('join first');
  },
  ufrags() {
    return pcs.map((pc) => ufragOf(pc.localDescription?.sdp)).filter((u): u is string => u !== null);
  },
  kill(remote) {
    const pc = pcs.find((c) => {
      const u = ufragOf(c.remoteDescription?.sdp);
      return u !== null && remote.includes(u) && c.connectionState === 'connected';
    });
    if (!pc) return false;
    pc.close();
    return true;
  },
};

function watchMatch(match: Awaited<ReturnType<Client['createMatch']>>): void {
  state.matchId = match.id;
  state.matchSelf = match.clientId;
  const record = (h: { clientId: string; epoch: number } | null) => {
    if (h) state.hosts.push({ clientId: h.clientId, epoch: h.epoch });
  };
  record(match.host);
  match.on('host', (h) => record(h));
}

window.__peers = state;
document.body.dataset.ready = 'yes';
