// Counters the server keeps (frames, bytes, errors by code, tick overruns), readable as a plain object.

/** The subset of a pino logger netloom uses; Fastify's `app.log` fits. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that drops everything (for rooms and sessions made outside a Fastify app, e.g. in tests). */
export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  child() {
    return silentLogger;
  },
};

/** Named monotonic counters; a label is folded into the name as `name{label}`. */
export class Metrics {
  private readonly counters = new Map<string, number>();

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  /** Counts an error by its stable code, e.g. `errors{frame_truncated}`. */
  error(code: string): void {
    this.inc(`errors{${code}}`);
  }

  get(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counters);
  }
}
