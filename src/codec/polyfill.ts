// Installs a Float16Array polyfill on globalThis when the runtime lacks one (Node 20), before packcat loads.
import { Float16Array as Float16ArrayPolyfill } from '@petamoriken/float16';

const scope = globalThis as { Float16Array?: unknown };
if (typeof scope.Float16Array !== 'function') {
  // packcat reads `Float16Array` as a global at module load; browsers and Node >= 24 have it natively.
  scope.Float16Array = Float16ArrayPolyfill;
}

/** True when Float16Array is available (always, once this module has run). */
export const hasFloat16Array = typeof scope.Float16Array === 'function';
