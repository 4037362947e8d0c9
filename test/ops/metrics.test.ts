// Metrics and the Prometheus renderer: folded names become labels, escaping holds, the text parses.
import { describe, expect, it } from 'vitest';
import { emptyTraffic, Metrics, trafficValues, unfold } from '../../src/server/metrics.js';
import { escapeLabelValue, metricName, renderPrometheus } from '../../src/server/prometheus.js';
import { parsePrometheus, sampleValue } from './prom-parse.js';

describe('renderPrometheus', () => {
  it('writes HELP and TYPE before samples and escapes label values and help text', () => {
    const text = renderPrometheus([
      {
        name: 'x_total',
        help: 'a \\ help\nwith a line feed',
        type: 'counter',
        samples: [
          { value: 3, labels: { code: 'a"b\\c\nd' } },
          { value: 1, labels: { code: 'plain' } },
        ],
      },
      { name: 'empty', help: 'no samples', type: 'gauge', samples: [] },
      { name: 'g', help: 'gauge', type: 'gauge', samples: [{ value: Number.POSITIVE_INFINITY }] },
    ]);
    expect(text).toContain('# HELP x_total a \\\\ help\\nwith a line feed\n');
    expect(text).toContain('x_total{code="a\\"b\\\\c\\nd"} 3\n');
    expect(text).not.toContain('empty');
    const parsed = parsePrometheus(text);
    expect(sampleValue(parsed, 'x_total', { code: 'a"b\\c\nd' })).toBe(3);
    expect(sampleValue(parsed, 'g')).toBe(Number.POSITIVE_INFINITY);
    expect(parsed.get('x_total')?.type).toBe('counter');
  });

  it('sanitises metric and label names', () => {
    expect(metricName('rooms-by type')).toBe('rooms_by_type');
    expect(metricName('9lives')).toBe('_9lives');
    expect(metricName('a:b', true)).toBe('a_b');
    expect(escapeLabelValue('ok')).toBe('ok');
    expect(renderPrometheus([])).toBe('');
  });

  it('the test parser rejects malformed text (so that passing means something)', () => {
    expect(() => parsePrometheus('x 1\n')).toThrow(/outside its family/);
    expect(() => parsePrometheus('# HELP x h\n# TYPE x counter\nx{a="b} 1\n')).toThrow();
    expect(() => parsePrometheus('# HELP x h\n# TYPE x counter\nx one\n')).toThrow(/bad value/);
    expect(() => parsePrometheus('# HELP x h\n# TYPE x counter\nx 1')).toThrow(/line feed/);
  });
});

describe('Metrics', () => {
  it('folds a label into counter names and renders it under the described label name', () => {
    const m = new Metrics();
    m.error('frame_truncated');
    m.error('frame_truncated');
    m.inc('hook_errors{onTick}');
    m.inc('custom_thing{x"y}');
    m.inc('plain');
    m.gaugeAdd('rooms{arena}', 2);
    m.gaugeAdd('rooms{lobby}', 1);
    m.gaugeAdd('rooms{arena}', -1);
    expect(m.get('errors{frame_truncated}')).toBe(2);
    expect(m.sum('rooms')).toBe(2);
    const text = renderPrometheus(m.families());
    const parsed = parsePrometheus(text);
    expect(sampleValue(parsed, 'netloom_errors_total', { code: 'frame_truncated' })).toBe(2);
    expect(sampleValue(parsed, 'netloom_hook_errors_total', { hook: 'onTick' })).toBe(1);
    expect(sampleValue(parsed, 'netloom_custom_thing_total', { label: 'x"y' })).toBe(1);
    expect(sampleValue(parsed, 'netloom_plain_total')).toBe(1);
    expect(sampleValue(parsed, 'netloom_rooms', { type: 'arena' })).toBe(1);
    expect(parsed.get('netloom_rooms')?.type).toBe('gauge');
  });

  it('reads sources at scrape time and keeps the plain-object snapshot', () => {
    const m = new Metrics();
    let live = 3;
    m.addSource('gauge', () => ({ sessions: live }));
    const traffic = emptyTraffic();
    traffic.messagesIn.reliable = 5;
    m.retireTraffic(traffic);
    m.addSource('counter', () => trafficValues(m.retiredTraffic));
    m.roomMessagesIn += 4;
    expect(m.snapshot()).toMatchObject({ sessions: 3, 'messages_in{reliable}': 5, room_messages_in: 4 });
    live = 7;
    const parsed = parsePrometheus(renderPrometheus(m.families()));
    expect(sampleValue(parsed, 'netloom_sessions')).toBe(7);
    expect(sampleValue(parsed, 'netloom_messages_in_total', { channel: 'reliable' })).toBe(5);
    expect(sampleValue(parsed, 'netloom_messages_in_total', { channel: 'unreliable' })).toBe(0);
    expect(sampleValue(parsed, 'netloom_room_messages_in_total')).toBe(4);
  });

  it('unfolds names with and without a label', () => {
    expect(unfold('errors{x}')).toEqual({ base: 'errors', labelValue: 'x' });
    expect(unfold('errors')).toEqual({ base: 'errors' });
    expect(unfold('{x}')).toEqual({ base: '{x}' });
  });
});
