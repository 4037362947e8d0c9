// Test helper: the NetloomError code a call throws, or 'ok' when it returns.
import { NetloomError } from '../../src/codec/errors.js';

export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof NetloomError) return err.code;
    throw err;
  }
  return 'ok';
}
