// Counters and gauges the server keeps (traffic, errors by code, rooms by type, tick overruns), as a plain object or Prometheus families.
import type { ChannelCounters } from '../link/link.js';
import type { MetricFamily, MetricType, Sample } from './prometheus.js';

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

/** Messages and bytes of data frames, per channel and direction. */
export interface Traffic {
  messagesIn: ChannelCounters;
  messagesOut: ChannelCounters;
  bytesIn: ChannelCounters;
  bytesOut: ChannelCounters;
}

export function emptyTraffic(): Traffic {
  return {
    messagesIn: { reliable: 0, unreliable: 0 },
    messagesOut: { reliable: 0, unreliable: 0 },
    bytesIn: { reliable: 0, unreliable: 0 },
    bytesOut: { reliable: 0, unreliable: 0 },
  };
}

/** Adds `from` into `into` (both per channel). */
export function addTraffic(into: Traffic, from: Traffic): void {
  for (const key of ['messagesIn', 'messagesOut', 'bytesIn', 'bytesOut'] as const) {
    into[key].reliable += from[key].reliable;
    into[key].unreliable += from[key].unreliable;
  }
}

/** What a metric means and the name of its one label (a folded name `base{value}` carries the value). */
export interface MetricDescription {
  help: string;
  /** Label name for folded names (default `label`). */
  label?: string;
}

const DESCRIPTIONS: Record<string, MetricDescription> = {
  errors: { help: 'Errors by stable code: refused input, closed sessions, failed requests.', label: 'code' },
  hook_errors: { help: 'Room hooks and handlers that threw, by hook.', label: 'hook' },
  tick_overruns: { help: 'Ticks that fell behind and were skipped, by room type.', label: 'type' },
  rooms: { help: 'Rooms running on this node, by room type.', label: 'type' },
  sessions: { help: 'Live sessions on this node (connected or within their reconnection window).' },
  messages_in: { help: 'Data messages received from clients, by channel.', label: 'channel' },
  messages_out: { help: 'Data messages sent to clients, by channel.', label: 'channel' },
  bytes_in: { help: 'Bytes of data frames received from clients, by channel.', label: 'channel' },
  bytes_out: {
    help: 'Bytes of data frames sent to clients (resends included), by channel.',
    label: 'channel',
  },
  room_messages_in: { help: 'Room messages decoded and handed to rooms.' },
  rooms_created: { help: 'Rooms created on this node.' },
  rooms_disposed: { help: 'Rooms disposed on this node.' },
  sessions_created: { help: 'Sessions created.' },
  sessions_resumed: { help: 'Sessions resumed on a new link.' },
  sessions_ended: { help: 'Sessions ended.' },
  links_accepted: { help: 'Transport links accepted.' },
  messages_rate_limited: { help: 'Client messages dropped for exceeding the per-session message rate.' },
  rate_limit_warnings: { help: 'Rate-limit warnings (notices) sent to clients.' },
};

/** A value read at scrape time, by folded name (`base` or `base{label value}`). */
export type MetricSource = () => Record<string, number>;

/**
 * Named counters and gauges. A label is folded into the name as `name{value}` (e.g.
 * `errors{frame_truncated}`); `describe` names the label for the Prometheus rendering.
 * Per-message counting does not go through here: sessions count their own traffic in plain
 * fields, summed at scrape time (see `retireTraffic` and the sources).
 */
export class Metrics {
  private readonly counters = new Map<string, number>();
  private readonly gauges = new Map<string, number>();
  private readonly descriptions = new Map<string, MetricDescription>(Object.entries(DESCRIPTIONS));
  private readonly sources: Array<{ type: MetricType; read: MetricSource }> = [];
  /** Traffic of sessions that have ended; live sessions add theirs through a source. */
  readonly retiredTraffic: Traffic = emptyTraffic();
  /** Room messages decoded; a plain field because it moves once per message. */
  roomMessagesIn = 0;

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  /** Counts an error by its stable code, e.g. `errors{frame_truncated}`. */
  error(code: string): void {
    this.inc(`errors{${code}}`);
  }

  /** Moves a gauge up or down, e.g. `gaugeAdd('rooms{arena}', 1)`. */
  gaugeAdd(name: string, by: number): void {
    this.gauges.set(name, (this.gauges.get(name) ?? 0) + by);
  }

  gaugeSet(name: string, value: number): void {
    this.gauges.set(name, value);
  }

  /** Adds a finished session's traffic to the totals. */
  retireTraffic(traffic: Traffic): void {
    addTraffic(this.retiredTraffic, traffic);
  }

  /** Registers values read at scrape time (live counts, totals kept elsewhere). */
  addSource(type: MetricType, read: MetricSource): void {
    this.sources.push({ type, read });
  }

  /** Gives a metric (by base name) its HELP text and label name. */
  describe(base: string, description: MetricDescription): void {
    this.descriptions.set(base, description);
  }

  /** A counter's or gauge's current value (0 when never set). */
  get(name: string): number {
    return this.counters.get(name) ?? this.gauges.get(name) ?? 0;
  }

  /** Sum of the counters and gauges named `base` or `base{...}` (e.g. `sum('rooms')`: rooms of every type). */
  sum(base: string): number {
    let n = 0;
    for (const map of [this.counters, this.gauges])
      for (const [k, v] of map) if (k === base || k.startsWith(`${base}{`)) n += v;
    return n;
  }

  /** Every counter and gauge as a flat object of folded names. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = Object.fromEntries(this.counters);
    for (const [k, v] of this.gauges) out[k] = v;
    if (this.roomMessagesIn > 0) out.room_messages_in = this.roomMessagesIn;
    for (const source of this.sources) Object.assign(out, source.read());
    return out;
  }

  /** Every metric as Prometheus families named `${prefix}_${base}` (counters end in `_total`). */
  families(prefix = 'netloom'): MetricFamily[] {
    const byName = new Map<string, MetricFamily>();
    const add = (type: MetricType, folded: string, value: number) => {
      const { base, labelValue } = unfold(folded);
      const description = this.descriptions.get(base);
      const stem = `${prefix}_${base}`;
      const name = type === 'counter' && !stem.endsWith('_total') ? `${stem}_total` : stem;
      let family = byName.get(name);
      if (!family) {
        family = { name, type, help: description?.help ?? `netloom ${type} ${base}.`, samples: [] };
        byName.set(name, family);
      }
      const sample: Sample =
        labelValue === undefined
          ? { value }
          : { value, labels: { [description?.label ?? 'label']: labelValue } };
      family.samples.push(sample);
    };
    for (const [k, v] of this.counters) add('counter', k, v);
    if (this.roomMessagesIn > 0) add('counter', 'room_messages_in', this.roomMessagesIn);
    for (const [k, v] of this.gauges) add('gauge', k, v);
    for (const source of this.sources)
      for (const [k, v] of Object.entries(source.read())) add(source.type, k, v);
    return [...byName.values()];
  }
}

/** Splits `base{value}` into its parts; a name without braces has no label value. */
export function unfold(folded: string): { base: string; labelValue?: string } {
  const open = folded.indexOf('{');
  if (open <= 0 || !folded.endsWith('}')) return { base: folded };
  return { base: folded.slice(0, open), labelValue: folded.slice(open + 1, -1) };
}

/** Traffic as folded names: `messages_in{reliable}`, `bytes_out{unreliable}`, ... */
export function trafficValues(t: Traffic): Record<string, number> {
  return {
    'messages_in{reliable}': t.messagesIn.reliable,
    'messages_in{unreliable}': t.messagesIn.unreliable,
    'messages_out{reliable}': t.messagesOut.reliable,
    'messages_out{unreliable}': t.messagesOut.unreliable,
    'bytes_in{reliable}': t.bytesIn.reliable,
    'bytes_in{unreliable}': t.bytesIn.unreliable,
    'bytes_out{reliable}': t.bytesOut.reliable,
    'bytes_out{unreliable}': t.bytesOut.unreliable,
  };
}
