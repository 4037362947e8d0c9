// The relayed match wire as docs/WIRE.md §5.4 states it: a pinned hash, example payloads, the host record.
import { describe, expect, it } from 'vitest';
import {
  decodeRelayedHost,
  encodeRelayedHost,
  RELAYED_HOST_KEY,
  relayedProtocol,
} from '../../src/codec/relayed-protocol.js';

describe('relayed protocol wire', () => {
  it('keeps its hash, so clients built before host election still join', () => {
    expect(relayedProtocol.hash).toBe('701c18f2');
  });

  it('encodes the documented example payloads', () => {
    const up = relayedProtocol.client.encode('data', { op: 5, data: new Uint8Array([9]), to: ['x'] });
    expect(up.op).toBe(1);
    expect([...up.payload]).toEqual([0x01, 0x09, 0x05, 0x01, 0x01, 0x78]);
    const down = relayedProtocol.server.encode('data', { from: 'ab', op: 5, data: new Uint8Array([9]) });
    expect(down.op).toBe(1);
    expect([...down.payload]).toEqual([0x01, 0x09, 0x02, 0x61, 0x62, 0x05]);
  });

  it('stores the host under netloom.host as the documented JSON text', () => {
    expect(RELAYED_HOST_KEY).toBe('netloom.host');
    expect(JSON.stringify(encodeRelayedHost({ clientId: 'c1', userId: 'ann', epoch: 3 }))).toBe(
      '{"clientId":"c1","userId":"ann","epoch":3}',
    );
    expect(JSON.stringify(encodeRelayedHost({ clientId: 'c1', userId: undefined, epoch: 1 }))).toBe(
      '{"clientId":"c1","epoch":1}',
    );
  });

  it('reads only well-formed host records', () => {
    expect(decodeRelayedHost({ clientId: 'c1', epoch: 2 })).toEqual({
      clientId: 'c1',
      userId: undefined,
      epoch: 2,
    });
    for (const bad of [
      null,
      'c1',
      [],
      { clientId: '', epoch: 1 },
      { clientId: 'c1', epoch: 0 },
      { clientId: 'c1', epoch: 1.5 },
      { clientId: 'c1', epoch: '1' },
      { clientId: 'c1', userId: 7, epoch: 1 },
      { epoch: 1 },
    ]) {
      expect(decodeRelayedHost(bad)).toBeNull();
    }
  });
});
