// Browser-side WebRTC instrumentation for the demo specs: count datachannel messages per channel, kill peer connections.
import type { BrowserContext, Page } from '@playwright/test';

/** What the init script records in the page. */
export interface RtcCounters {
  /** Peer connections the page created, oldest first. */
  peers: number;
  /** Datachannel messages sent and received, by channel label. */
  sent: Record<string, number>;
  received: Record<string, number>;
}

declare global {
  interface Window {
    __rtc?: { pcs: RTCPeerConnection[]; sent: Record<string, number>; received: Record<string, number> };
  }
}

/** Wraps RTCPeerConnection so the test can count datachannel traffic and close a peer connection abruptly. */
export async function instrumentWebRtc(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    if (!Native) return;
    const rtc = {
      pcs: [] as RTCPeerConnection[],
      sent: {} as Record<string, number>,
      received: {} as Record<string, number>,
    };
    window.__rtc = rtc;
    const bump = (table: Record<string, number>, label: string) => {
      table[label] = (table[label] ?? 0) + 1;
    };
    const watch = (channel: RTCDataChannel) => {
      channel.addEventListener('message', () => bump(rtc.received, channel.label));
      const send = channel.send.bind(channel) as (data: never) => void;
      channel.send = ((data: never) => {
        bump(rtc.sent, channel.label);
        send(data);
      }) as RTCDataChannel['send'];
    };
    class Counted extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        rtc.pcs.push(this);
        this.addEventListener('datachannel', (event) => watch(event.channel));
      }
      override createDataChannel(label: string, init?: RTCDataChannelInit): RTCDataChannel {
        const channel = super.createDataChannel(label, init);
        watch(channel);
        return channel;
      }
    }
    window.RTCPeerConnection = Counted;
  });
}

/** Removes RTCPeerConnection and WebTransport from every page of the context (an older browser). */
export async function withoutModernTransports(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = window as unknown as Record<string, unknown>;
    delete w.RTCPeerConnection;
    delete w.webkitRTCPeerConnection;
    delete w.WebTransport;
  });
}

export function rtcCounters(page: Page): Promise<RtcCounters> {
  return page.evaluate(() => {
    const rtc = window.__rtc;
    return { peers: rtc?.pcs.length ?? 0, sent: { ...rtc?.sent }, received: { ...rtc?.received } };
  });
}

/** Closes the page's newest peer connection at once, as a dying network path would. */
export async function killNewestPeer(page: Page): Promise<void> {
  await page.evaluate(() => {
    const pcs = window.__rtc?.pcs ?? [];
    const pc = pcs[pcs.length - 1];
    if (!pc) throw new Error('no peer connection to kill');
    pc.close();
  });
}

/** Waits until the demo reports `transport` as the one carrying its room. */
export async function waitForTransport(page: Page, transport: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction((t) => window.__demo?.transport === t, transport, { timeout });
}
