// Signaling messages, the hub and the state machine: strict validation, size limits, routing and refusals with codes.
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/codec/errors.js';
import {
  DEFAULT_SIGNAL_LIMITS,
  encodeSignal,
  parseSignal,
  SERVER_PEER,
  SignalHub,
  type SignalMessage,
  SignalState,
} from '../../src/signaling/index.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code';
  }
  return 'no error';
}

describe('parseSignal', () => {
  it('round-trips every message kind', () => {
    const messages: SignalMessage[] = [
      { kind: 'offer', sdp: 'v=0\r\n' },
      { kind: 'answer', sdp: 'v=0\r\n' },
      {
        kind: 'candidate',
        candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host',
        sdpMid: '0',
        sdpMLineIndex: 0,
      },
      { kind: 'candidate', candidate: null, sdpMid: null, sdpMLineIndex: null },
      { kind: 'restart' },
      { kind: 'restart', reason: 'ice failed' },
      { kind: 'close' },
      { kind: 'close', code: 'upgrade_timeout', reason: 'late' },
    ];
    for (const m of messages) expect(parseSignal(encodeSignal(m))).toEqual(m);
  });

  it('refuses anything that is not exactly one of the shapes with signal_invalid', () => {
    const bad = [
      'not json',
      '[]',
      'null',
      '"offer"',
      '{}',
      '{"kind":"hello"}',
      '{"kind":"offer"}',
      '{"kind":"offer","sdp":42}',
      '{"kind":"offer","sdp":""}',
      '{"kind":"offer","sdp":"v=0","extra":1}',
      '{"kind":"candidate","candidate":"c","sdpMid":"0"}',
      '{"kind":"candidate","candidate":"c","sdpMid":"0","sdpMLineIndex":-1}',
      '{"kind":"candidate","candidate":"c","sdpMid":"0","sdpMLineIndex":1.5}',
      '{"kind":"candidate","candidate":7,"sdpMid":"0","sdpMLineIndex":0}',
      '{"kind":"restart","reason":5}',
      '{"kind":"close","code":{}}',
      '{"kind":"__proto__"}',
      '{"kind":"toString"}',
    ];
    for (const payload of bad)
      expect(
        codeOf(() => parseSignal(payload)),
        payload,
      ).toBe('signal_invalid');
  });

  it('refuses an SDP over the limit with sdp_too_large, counting UTF-8 bytes', () => {
    const limits = { ...DEFAULT_SIGNAL_LIMITS, maxSdpBytes: 100 };
    expect(parseSignal(encodeSignal({ kind: 'offer', sdp: 'a'.repeat(100) }), limits)).toBeTruthy();
    expect(codeOf(() => parseSignal(encodeSignal({ kind: 'offer', sdp: 'a'.repeat(101) }), limits))).toBe(
      'sdp_too_large',
    );
    // 34 three-byte characters are 102 bytes although only 34 UTF-16 units.
    expect(codeOf(() => parseSignal(encodeSignal({ kind: 'answer', sdp: '€'.repeat(34) }), limits))).toBe(
      'sdp_too_large',
    );
    expect(codeOf(() => parseSignal(encodeSignal({ kind: 'offer', sdp: 'x'.repeat(16_385) })))).toBe(
      'sdp_too_large',
    );
    const longCandidate = { kind: 'candidate', candidate: 'c'.repeat(1_025), sdpMid: '0', sdpMLineIndex: 0 };
    expect(codeOf(() => parseSignal(JSON.stringify(longCandidate)))).toBe('signal_invalid');
  });

  it('maps a close code it does not know to internal_error', () => {
    expect(parseSignal('{"kind":"close","code":"made_up"}')).toEqual({
      kind: 'close',
      code: 'internal_error',
    });
  });
});

describe('SignalState', () => {
  it('takes an offer only when idle, candidates only after one, and never an answer', () => {
    const state = new SignalState({ maxCandidates: 2, offersPerMinute: 10 });
    const candidate: SignalMessage = { kind: 'candidate', candidate: 'c', sdpMid: '0', sdpMLineIndex: 0 };
    expect(state.check(candidate)).toBe('signal_unexpected');
    expect(state.check({ kind: 'answer', sdp: 'v=0' })).toBe('signal_unexpected');
    expect(state.check({ kind: 'offer', sdp: 'v=0' })).toBeNull();
    expect(state.phase).toBe('answering');
    expect(state.check({ kind: 'offer', sdp: 'v=0' })).toBe('signal_unexpected');
    expect(state.check(candidate)).toBeNull();
    expect(state.check(candidate)).toBeNull();
    expect(state.check(candidate)).toBe('candidate_limit');
    state.advance('active');
    expect(state.check({ kind: 'offer', sdp: 'v=0' })).toBe('signal_unexpected');
    expect(state.check({ kind: 'restart' })).toBeNull();
    expect(state.phase).toBe('idle');
    expect(state.check({ kind: 'offer', sdp: 'v=0' })).toBeNull();
    expect(state.check(candidate)).toBeNull(); // the candidate count starts again with each offer
  });

  it('limits offers per minute', () => {
    let now = 0;
    const state = new SignalState({ maxCandidates: 8, offersPerMinute: 2 }, () => now);
    for (let i = 0; i < 2; i++) {
      expect(state.check({ kind: 'offer', sdp: 'v=0' })).toBeNull();
      expect(state.check({ kind: 'close' })).toBeNull();
    }
    expect(state.check({ kind: 'offer', sdp: 'v=0' })).toBe('signal_rate_exceeded');
    expect(state.phase).toBe('idle');
    now = 60_000;
    expect(state.check({ kind: 'offer', sdp: 'v=0' })).toBeNull();
  });
});

describe('SignalHub', () => {
  function source() {
    const sent: Array<{ peer: string; message: SignalMessage }> = [];
    return {
      id: 's1',
      sent,
      sendSignal: (peer: string, message: SignalMessage) => sent.push({ peer, message }),
    };
  }

  it('routes checked messages to the registered peer and refuses the rest with a close and a code', () => {
    const refused: ErrorCode[] = [];
    const hub = new SignalHub<ReturnType<typeof source>>({
      limits: { maxSdpBytes: 64 },
      onRefused: (code) => refused.push(code),
    });
    const got: SignalMessage[] = [];
    const unregister = hub.register(SERVER_PEER, (_from, message) => {
      got.push(message);
      return message.kind === 'answer' ? 'signal_unexpected' : null;
    });
    const from = source();
    expect(hub.route(from, '', encodeSignal({ kind: 'offer', sdp: 'v=0' }))).toBeNull();
    expect(got).toEqual([{ kind: 'offer', sdp: 'v=0' }]);
    expect(hub.route(from, 'someone-else', encodeSignal({ kind: 'offer', sdp: 'v=0' }))).toBe(
      'signal_peer_unknown',
    );
    expect(hub.route(from, '', '{"kind":')).toBe('signal_invalid');
    expect(hub.route(from, '', encodeSignal({ kind: 'offer', sdp: 'x'.repeat(65) }))).toBe('sdp_too_large');
    expect(hub.route(from, '', encodeSignal({ kind: 'answer', sdp: 'v=0' }))).toBe('signal_unexpected');
    expect(refused).toEqual(['signal_peer_unknown', 'signal_invalid', 'sdp_too_large', 'signal_unexpected']);
    expect(from.sent.map((s) => [s.peer, s.message.kind, (s.message as { code?: string }).code])).toEqual([
      ['someone-else', 'close', 'signal_peer_unknown'],
      ['', 'close', 'signal_invalid'],
      ['', 'close', 'sdp_too_large'],
      ['', 'close', 'signal_unexpected'],
    ]);
    unregister();
    expect(hub.route(from, '', encodeSignal({ kind: 'restart' }))).toBe('signal_peer_unknown');
  });

  it('turns a handler that throws into a refusal instead of an exception', () => {
    const hub = new SignalHub<ReturnType<typeof source>>();
    hub.register('', () => {
      throw new Error('bug');
    });
    const from = source();
    expect(hub.route(from, '', encodeSignal({ kind: 'restart' }))).toBe('internal_error');
    expect(from.sent[0].message).toMatchObject({ kind: 'close', code: 'internal_error' });
  });
});
