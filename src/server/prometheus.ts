// Prometheus text exposition format 0.0.4: renders metric families (HELP, TYPE, samples) with proper escaping.

/**
 * netloom writes this small renderer instead of depending on `prom-client`: prom-client keeps a global
 * registry, and its labelled counters hash a label set on every `inc()`, while netloom's hot-path
 * counters are plain number fields summed at scrape time. What is left to do is the text format,
 * which is a few lines.
 */

export type MetricType = 'counter' | 'gauge';

/** One sample: a value, with labels (name → value) when the family has any. */
export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

/** A metric family: one HELP and TYPE line, then its samples. */
export interface MetricFamily {
  /** Full metric name, e.g. `netloom_errors_total`; sanitised to the allowed characters. */
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

/** The Content-Type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Makes `name` a valid metric (or label) name: `[a-zA-Z_:][a-zA-Z0-9_:]*` (labels: no colon). */
export function metricName(name: string, label = false): string {
  const bad = label ? /[^a-zA-Z0-9_]/g : /[^a-zA-Z0-9_:]/g;
  const clean = name.replace(bad, '_');
  return /^[0-9]/.test(clean) || clean === '' ? `_${clean}` : clean;
}

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Escapes HELP text: backslash and line feed. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Formats a sample value: integers as is, `+Inf`/`-Inf`/`NaN` spelled as Prometheus wants. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** Renders families as exposition text (ends with a line feed). Families with no samples are skipped. */
export function renderPrometheus(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (family.samples.length === 0) continue;
    const name = metricName(family.name);
    lines.push(`# HELP ${name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = sample.labels ? Object.entries(sample.labels) : [];
      const rendered =
        labels.length === 0
          ? ''
          : `{${labels.map(([k, v]) => `${metricName(k, true)}="${escapeLabelValue(v)}"`).join(',')}}`;
      lines.push(`${name}${rendered} ${formatValue(sample.value)}`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
