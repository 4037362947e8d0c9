// The HPACK/QPACK Huffman code (RFC 7541 Appendix B): a strict decoder and an encoder, built from the code lengths.
import { NetloomError } from '../../../codec/errors.js';

/**
 * Code length in bits of each symbol 0..255 and EOS (256), from RFC 7541 Appendix B. The code is
 * canonical, so the codes themselves follow from the lengths (shorter codes first, then by symbol).
 */
const LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28,
  28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7,
  8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19,
  13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13,
  28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21,
  22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23,
  22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25,
  25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
];

const EOS = 256;
const MAX_LENGTH = 30;

/** Per code length: the first canonical code, how many codes, and where their symbols start in SYMBOLS. */
const firstCode = new Array<number>(MAX_LENGTH + 1).fill(0);
const countOf = new Array<number>(MAX_LENGTH + 1).fill(0);
const startOf = new Array<number>(MAX_LENGTH + 1).fill(0);
/** Symbols ordered by (length, symbol). */
const SYMBOLS: number[] = [];
/** The code of each symbol (for the encoder). */
const CODES = new Array<number>(257).fill(0);

(function build() {
  for (const length of LENGTHS) countOf[length]++;
  let code = 0;
  let start = 0;
  for (let length = 1; length <= MAX_LENGTH; length++) {
    firstCode[length] = code;
    startOf[length] = start;
    for (let symbol = 0; symbol <= EOS; symbol++) {
      if (LENGTHS[symbol] !== length) continue;
      SYMBOLS.push(symbol);
      CODES[symbol] = code++;
      start++;
    }
    code *= 2;
  }
})();

/** The canonical code of `symbol` (0..256) and its length; exported for tests against RFC 7541's table. */
export function huffmanCodeOf(symbol: number): { code: number; length: number } {
  return { code: CODES[symbol], length: LENGTHS[symbol] };
}

/**
 * Decodes a Huffman-coded string. Throws `qpack_error` for an EOS symbol, padding longer than 7 bits,
 * padding that is not all ones, or output longer than `maxOutput` bytes.
 */
export function huffmanDecode(input: Uint8Array, maxOutput = 65_536): Uint8Array {
  // Huffman codes are at least 5 bits, so the output is at most 8/5 of the input.
  const out = new Uint8Array(Math.min(Math.ceil((input.length * 8) / 5), maxOutput + 1));
  let n = 0;
  let code = 0;
  let length = 0;
  let ones = true;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i];
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >> bit) & 1;
      code = code * 2 + b;
      length++;
      if (b === 0) ones = false;
      const index = code - firstCode[length];
      if (index >= 0 && index < countOf[length]) {
        const symbol = SYMBOLS[startOf[length] + index];
        if (symbol === EOS) throw new NetloomError('qpack_error', 'Huffman string contains EOS');
        if (n >= maxOutput)
          throw new NetloomError('h3_headers_too_large', `Huffman string over ${maxOutput} bytes`);
        out[n++] = symbol;
        code = 0;
        length = 0;
        ones = true;
      } else if (length >= MAX_LENGTH) {
        throw new NetloomError('qpack_error', 'invalid Huffman code');
      }
    }
  }
  if (length > 7) throw new NetloomError('qpack_error', 'Huffman padding longer than 7 bits');
  if (!ones) throw new NetloomError('qpack_error', 'Huffman padding is not all ones');
  return out.subarray(0, n);
}

/** Encodes bytes with the Huffman code, padding with ones (used by tests and by peers that want it). */
export function huffmanEncode(input: Uint8Array): Uint8Array {
  let bits = 0;
  for (const byte of input) bits += LENGTHS[byte];
  const out = new Uint8Array(Math.ceil(bits / 8));
  let acc = 0;
  let accBits = 0;
  let o = 0;
  for (const byte of input) {
    let length = LENGTHS[byte];
    const code = CODES[byte];
    while (length > 0) {
      const take = Math.min(length, 8 - accBits);
      const part = Math.floor(code / 2 ** (length - take)) & ((1 << take) - 1);
      acc = (acc << take) | part;
      accBits += take;
      length -= take;
      if (accBits === 8) {
        out[o++] = acc;
        acc = 0;
        accBits = 0;
      }
    }
  }
  if (accBits > 0) out[o] = (acc << (8 - accBits)) | ((1 << (8 - accBits)) - 1);
  return out;
}
