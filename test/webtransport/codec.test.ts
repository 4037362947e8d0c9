// The HTTP/3 codec pieces on their own: QUIC varints, Huffman (RFC 7541 vectors), QPACK, SETTINGS, capsules, and fuzzing.
import { describe, expect, it } from 'vitest';
import { NetloomError } from '../../src/codec/errors.js';
import {
  CapsuleParser,
  encodeCloseCapsule,
  encodeDrainCapsule,
} from '../../src/server/transports/webtransport/capsule.js';
import { encodeFrame, H3FrameParser } from '../../src/server/transports/webtransport/h3-frames.js';
import {
  huffmanCodeOf,
  huffmanDecode,
  huffmanEncode,
} from '../../src/server/transports/webtransport/huffman.js';
import { decodeFieldSection, encodeFieldSection } from '../../src/server/transports/webtransport/qpack.js';
import { encodeOurSettings, parseSettings } from '../../src/server/transports/webtransport/settings.js';
import {
  encodeVarints,
  readVarint,
  StreamPrefix,
  varintSize,
  writeVarint,
} from '../../src/server/transports/webtransport/varint.js';
import { h3ToWtCode, wtToH3Code } from '../../src/server/transports/webtransport/wt-session.js';

const hex = (s: string) =>
  Uint8Array.from(
    s
      .replace(/\s/g, '')
      .match(/../g)!
      .map((h) => Number.parseInt(h, 16)),
  );
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Deterministic pseudo-random bytes. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

describe('QUIC varints', () => {
  it('reads the RFC 9000 examples and round-trips every size', () => {
    expect(BigInt(readVarint(hex('c2197c5eff14e88c'), 0))).toBe(151_288_809_941_952_640n); // 151,288,809,941,952,652 as a double
    expect(readVarint(hex('9d7f3e7d'), 0)).toBe(494_878_333);
    expect(readVarint(hex('7bbd'), 0)).toBe(15_293);
    expect(readVarint(hex('25'), 0)).toBe(37);
    expect(readVarint(hex('4025'), 0)).toBe(37);
    for (const v of [0, 63, 64, 16_383, 16_384, 1_073_741_823, 1_073_741_824, 2 ** 53 - 1]) {
      const out = new Uint8Array(8);
      const end = writeVarint(out, 0, v);
      expect(end).toBe(varintSize(v));
      expect(readVarint(out, 0, end)).toBe(v);
      expect(readVarint(out, 0, end - 1)).toBe(-1); // cut short
    }
    expect(() => varintSize(-1)).toThrow(NetloomError);
    expect(() => varintSize(2 ** 62)).toThrow(NetloomError);
  });

  it('reads stream prefixes split at any byte', () => {
    const bytes = new Uint8Array([...encodeVarints(0x54, 1_000_000), 9, 9]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const prefix = new StreamPrefix(2);
      const first = prefix.push(bytes.subarray(0, cut));
      const rest = first === null ? prefix.push(bytes.subarray(cut)) : [...first, ...bytes.subarray(cut)];
      expect(prefix.values).toEqual([0x54, 1_000_000]);
      expect([...(rest ?? [])]).toEqual([9, 9]);
    }
  });
});

describe('Huffman code', () => {
  it('matches RFC 7541 Appendix B and decodes the Appendix C examples', () => {
    expect(huffmanCodeOf(0)).toEqual({ code: 0x1ff8, length: 13 });
    expect(huffmanCodeOf(32)).toEqual({ code: 0x14, length: 6 });
    expect(huffmanCodeOf(97)).toEqual({ code: 0x3, length: 5 });
    expect(huffmanCodeOf(255)).toEqual({ code: 0x3ffffee, length: 26 });
    expect(huffmanCodeOf(256)).toEqual({ code: 0x3fffffff, length: 30 });
    expect(text(huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff')))).toBe('www.example.com');
    expect(text(huffmanDecode(hex('a8eb 1064 9cbf')))).toBe('no-cache');
    expect(text(huffmanDecode(hex('25a8 49e9 5ba9 7d7f')))).toBe('custom-key');
    expect(text(huffmanDecode(hex('6402')))).toBe('302');
    expect(text(huffmanDecode(hex('aec3 771a 4b')))).toBe('private');
  });

  it('round-trips all byte values and refuses bad padding and EOS', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect([...huffmanDecode(huffmanEncode(all))]).toEqual([...all]);
    expect(() => huffmanDecode(hex('00'))).toThrow(/padding/); // '0' then zero padding
    expect(() => huffmanDecode(hex('ffffffff'))).toThrow(/EOS/);
    expect(() => huffmanDecode(hex('1fff'))).toThrow(/padding/); // 'a' then 11 bits of ones
    expect(() => huffmanDecode(huffmanEncode(new Uint8Array(100)), 50)).toThrow(NetloomError);
  });
});

describe('QPACK', () => {
  it('decodes the RFC 9204 Appendix B.1 static-only example', () => {
    expect(decodeFieldSection(hex('0000 510b 2f69 6e64 6578 2e68 746d 6c'))).toEqual([
      { name: ':path', value: '/index.html' },
    ]);
  });

  it('round-trips our header blocks through static references and plain literals', () => {
    const fields = [
      { name: ':status', value: '200' },
      { name: ':status', value: '431' },
      { name: 'origin', value: 'https://game.example' },
      { name: 'x-custom-header-name', value: 'v'.repeat(300) },
      { name: 'sec-webtransport-http3-draft', value: 'draft02' },
    ];
    const block = encodeFieldSection(fields);
    expect(block[2]).toBe(0xc0 | 25); // :status 200 is one byte
    expect(decodeFieldSection(block)).toEqual(fields);
  });

  it('limits the header list size', () => {
    const block = encodeFieldSection([{ name: 'a', value: 'b'.repeat(5_000) }]);
    expect(() => decodeFieldSection(block, 4_000)).toThrow(
      expect.objectContaining({ code: 'h3_headers_too_large' }),
    );
    expect(decodeFieldSection(block, 6_000)).toHaveLength(1);
  });
});

describe('SETTINGS', () => {
  it('parses ours, ignores unknown and grease identifiers, refuses duplicates and HTTP/2 settings', () => {
    const ours = parseSettings(encodeOurSettings(4, 16_384));
    expect(ours).toMatchObject({
      qpackMaxTableCapacity: 0,
      qpackBlockedStreams: 0,
      enableConnectProtocol: true,
      h3Datagram: true,
      enableWebTransport: true,
      wtMaxSessions: 4,
      maxFieldSectionSize: 16_384,
    });
    const withGrease = parseSettings(encodeVarints(0x21 + 0x1f * 1000, 7, 0x2b603742, 1, 0x33, 1));
    expect(withGrease).toMatchObject({ enableWebTransport: true, h3Datagram: true, wtMaxSessions: 0 });
    expect(parseSettings(encodeVarints(0xc671706a, 3)).wtMaxSessions).toBe(3);
    expect(() => parseSettings(encodeVarints(0x33, 1, 0x33, 1))).toThrow(
      expect.objectContaining({ code: 'h3_settings_error' }),
    );
    expect(() => parseSettings(encodeVarints(0x02, 1))).toThrow(
      expect.objectContaining({ code: 'h3_settings_error' }),
    );
    expect(() => parseSettings(encodeVarints(0x33, 2))).toThrow(
      expect.objectContaining({ code: 'h3_settings_error' }),
    );
    expect(() => parseSettings(Uint8Array.from([0x33]))).toThrow(
      expect.objectContaining({ code: 'h3_settings_error' }),
    );
  });
});

describe('capsules and stream error codes', () => {
  it('parses close and drain capsules across chunk boundaries and skips unknown ones', () => {
    const seen: unknown[] = [];
    const parser = new CapsuleParser((c) => seen.push(c));
    const bytes = new Uint8Array([
      ...encodeVarints(0x17, 3),
      1,
      2,
      3,
      ...encodeDrainCapsule(),
      ...encodeCloseCapsule(0xfffffffe, 'é'.repeat(600)),
    ]);
    for (const b of bytes) parser.push(Uint8Array.of(b));
    expect(seen).toEqual([{ type: 'drain' }, { type: 'close', code: 0xfffffffe, reason: 'é'.repeat(512) }]);
    expect(() =>
      new CapsuleParser(() => {}).push(Uint8Array.from([...encodeVarints(0x2843, 2), 0, 0])),
    ).toThrow(expect.objectContaining({ code: 'capsule_error' }));
    expect(() => new CapsuleParser(() => {}).push(Uint8Array.from([...encodeVarints(0x2843, 5000)]))).toThrow(
      expect.objectContaining({ code: 'capsule_error' }),
    );
  });

  it('maps WebTransport stream error codes into the HTTP/3 range and back', () => {
    for (const code of [0, 1, 0x1d, 0x1e, 0x1f, 1000, 0xffffffff])
      expect(h3ToWtCode(wtToH3Code(code))).toBe(code);
    expect(wtToH3Code(0)).toBe(0x52e4a40fa8db);
    expect(wtToH3Code(0xffffffff)).toBe(0x52e5ac983162);
    expect(h3ToWtCode(0x100)).toBe(0);
  });
});

describe('fuzzing', () => {
  it('the frame parser takes 300,000 random inputs and only ever throws NetloomError', () => {
    const random = rng(1);
    let frames = 0;
    let errors = 0;
    for (let i = 0; i < 300_000; i++) {
      const length = 1 + Math.floor(random() * 24);
      const bytes = new Uint8Array(length);
      for (let j = 0; j < length; j++) bytes[j] = Math.floor(random() * 256);
      // Bias towards small types so that known frames appear often.
      if (random() < 0.5) bytes[0] &= 0x0f;
      const parser = new H3FrameParser(
        {
          frame: () => frames++,
          data: () => {},
          webtransport: () => {},
        },
        { maxFrameBytes: 1_024, webtransportSignal: i % 2 === 0 },
      );
      try {
        const cut = Math.floor(random() * length);
        parser.push(bytes.subarray(0, cut));
        parser.push(bytes.subarray(cut));
      } catch (err) {
        if (!(err instanceof NetloomError)) throw err;
        errors++;
      }
    }
    expect(frames).toBeGreaterThan(1_000);
    expect(errors).toBeGreaterThan(1_000);
  });

  it('the QPACK decoder takes 300,000 random inputs and only ever throws NetloomError', () => {
    const random = rng(2);
    let decoded = 0;
    const valid = encodeFieldSection([
      { name: ':method', value: 'CONNECT' },
      { name: 'origin', value: 'https://a.example' },
    ]);
    for (let i = 0; i < 300_000; i++) {
      let bytes: Uint8Array;
      if (i % 3 === 0) {
        // Mutations of a valid block.
        bytes = valid.slice(0, 1 + Math.floor(random() * valid.length));
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      } else {
        bytes = new Uint8Array(1 + Math.floor(random() * 32));
        for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
        bytes[0] = 0;
        if (bytes.length > 1) bytes[1] &= 0x7f;
      }
      try {
        decodeFieldSection(bytes, 4_096);
        decoded++;
      } catch (err) {
        if (!(err instanceof NetloomError)) throw err;
      }
    }
    expect(decoded).toBeGreaterThan(1_000);
  });

  it('the Huffman decoder takes 100,000 random inputs and only ever throws NetloomError', () => {
    const random = rng(3);
    let ok = 0;
    for (let i = 0; i < 100_000; i++) {
      const bytes = new Uint8Array(1 + Math.floor(random() * 16));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      try {
        huffmanDecode(bytes, 64);
        ok++;
      } catch (err) {
        if (!(err instanceof NetloomError)) throw err;
      }
    }
    expect(ok).toBeGreaterThan(100);
  });

  it('frames encode and parse back whatever the chunking', () => {
    const payload = Uint8Array.from({ length: 3_000 }, (_, i) => i & 0xff);
    const stream = new Uint8Array([
      ...encodeFrame(0x01, payload.subarray(0, 100)),
      ...encodeFrame(0x21, payload.subarray(0, 50)),
      ...encodeFrame(0x00, payload),
    ]);
    const random = rng(4);
    for (let run = 0; run < 200; run++) {
      const got: number[] = [];
      let data = 0;
      const parser = new H3FrameParser({
        frame: (type, p) => got.push(type, p.length),
        data: (b) => (data += b.length),
      });
      let i = 0;
      while (i < stream.length) {
        const n = 1 + Math.floor(random() * 40);
        parser.push(stream.subarray(i, i + n));
        i += n;
      }
      expect(got).toEqual([0x01, 100]);
      expect(data).toBe(3_000);
      expect(parser.idle).toBe(true);
    }
  });
});
