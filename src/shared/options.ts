// definedOnly: drops undefined fields from an options object, so that spreading it over defaults keeps them.

/** `options` without its undefined fields (so that `{ ...defaults, ...definedOnly(options) }` keeps the defaults). */
export function definedOnly<T extends object>(options: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(options) as (keyof T)[]) {
    if (options[key] !== undefined) out[key] = options[key];
  }
  return out;
}
