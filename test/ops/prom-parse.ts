// Test helper: a strict little parser of Prometheus text exposition (0.0.4) that throws on any malformed line.

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  samples: ParsedSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function unescapeLabel(raw: string): string {
  return raw.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`bad labels: ${text}`);
    const key = text.slice(i, eq);
    if (!LABEL.test(key)) throw new Error(`bad label name: ${key}`);
    if (text[eq + 1] !== '"') throw new Error(`label value not quoted: ${text}`);
    let j = eq + 2;
    let raw = '';
    for (;;) {
      if (j >= text.length) throw new Error(`unterminated label value: ${text}`);
      const c = text[j];
      if (c === '\\') {
        const next = text[j + 1];
        if (next !== '\\' && next !== '"' && next !== 'n') throw new Error(`bad escape in ${text}`);
        raw += c + next;
        j += 2;
        continue;
      }
      if (c === '"') break;
      if (c === '\n') throw new Error('raw newline in label value');
      raw += c;
      j++;
    }
    if (key in labels) throw new Error(`duplicate label ${key}`);
    labels[key] = unescapeLabel(raw);
    j++;
    if (j < text.length) {
      if (text[j] !== ',') throw new Error(`expected comma in ${text}`);
      j++;
    }
    i = j;
  }
  return labels;
}

function parseValue(raw: string): number {
  if (raw === '+Inf') return Number.POSITIVE_INFINITY;
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY;
  if (raw === 'NaN') return Number.NaN;
  if (!/^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(raw)) throw new Error(`bad value: ${raw}`);
  return Number(raw);
}

/** Parses exposition text; every sample must follow a HELP and TYPE of its family. */
export function parsePrometheus(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  if (text !== '' && !text.endsWith('\n')) throw new Error('text must end with a line feed');
  let current: ParsedFamily | null = null;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = /^# HELP ([^ ]+) (.*)$/.exec(line);
    if (help) {
      if (!NAME.test(help[1])) throw new Error(`bad metric name ${help[1]}`);
      if (families.has(help[1])) throw new Error(`family ${help[1]} twice`);
      current = { name: help[1], help: help[2], type: '', samples: [] };
      families.set(help[1], current);
      continue;
    }
    const type = /^# TYPE ([^ ]+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      if (!current || current.name !== type[1] || current.type !== '')
        throw new Error(`TYPE without HELP: ${line}`);
      current.type = type[2];
      continue;
    }
    if (line.startsWith('#')) throw new Error(`unexpected comment: ${line}`);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)$/.exec(line);
    if (!sample) throw new Error(`bad sample line: ${line}`);
    if (!current || current.name !== sample[1] || current.type === '')
      throw new Error(`sample outside its family: ${line}`);
    current.samples.push({
      name: sample[1],
      labels: sample[3] ? parseLabels(sample[3]) : {},
      value: parseValue(sample[4]),
    });
  }
  return families;
}

/** The value of `name` with exactly `labels` (undefined when absent). */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const family = families.get(name);
  const wanted = JSON.stringify(Object.entries(labels).sort());
  return family?.samples.find((s) => JSON.stringify(Object.entries(s.labels).sort()) === wanted)?.value;
}
