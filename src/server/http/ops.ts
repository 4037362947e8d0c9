// Operations routes: GET /healthz and GET /metrics (Prometheus text), and the gate that refuses requests during shutdown.
import type { NetloomContext } from '../context.js';
import type { Lifecycle } from '../lifecycle.js';
import { type MetricFamily, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '../prometheus.js';
import { STATUS_BY_CODE } from './reply.js';

/** Where the operations routes live. They sit outside the netloom prefix by default, where probes and Prometheus look. */
export interface OpsOptions {
  /** Path of the health check (default `/healthz`; `false`: no route). */
  healthPath?: string | false;
  /** Path of the Prometheus metrics (default `/metrics`; `false`: no route). Not authenticated: keep it off the public internet. */
  metricsPath?: string | false;
  /** Include `process_*` and `nodejs_*` basics (CPU, memory, start time) in /metrics (default true). */
  processMetrics?: boolean;
}

/** Body of GET /healthz. */
export interface HealthStatus {
  status: 'ok' | 'shutting_down';
  nodeId: string;
  sessions: number;
  rooms: number;
}

const startTimeSeconds = Math.round((Date.now() - performance.now()) / 1000);

/** CPU, memory and start time of this process, named as Prometheus' client libraries name them. */
export function processFamilies(): MetricFamily[] {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  const gauge = (name: string, help: string, value: number): MetricFamily => ({
    name,
    help,
    type: 'gauge',
    samples: [{ value }],
  });
  return [
    {
      name: 'process_cpu_user_seconds_total',
      help: 'User CPU time spent in seconds.',
      type: 'counter',
      samples: [{ value: cpu.user / 1e6 }],
    },
    {
      name: 'process_cpu_system_seconds_total',
      help: 'System CPU time spent in seconds.',
      type: 'counter',
      samples: [{ value: cpu.system / 1e6 }],
    },
    gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', mem.rss),
    gauge(
      'process_start_time_seconds',
      'Start time of the process since unix epoch in seconds.',
      startTimeSeconds,
    ),
    gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', mem.heapUsed),
    gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', mem.heapTotal),
  ];
}

export function registerOpsRoutes(ctx: NetloomContext, lifecycle: Lifecycle): void {
  const { app, prefix, metrics, nodeId, sessions } = ctx;
  const ops = ctx.options.ops ?? {};
  const healthPath = ops.healthPath ?? '/healthz';
  const metricsPath = ops.metricsPath ?? '/metrics';

  // Refuse netloom's own routes (not the transports, which answer with a CLOSE frame, nor these) while shutting down.
  const open = new Set<string>([ctx.transports.websocket]);
  if (healthPath) open.add(healthPath);
  if (metricsPath) open.add(metricsPath);
  app.addHook('onRequest', async (request, reply) => {
    if (!lifecycle.shuttingDown) return;
    const path = request.url.split('?', 1)[0];
    if (!path.startsWith(`${prefix}/`) || open.has(path)) return;
    metrics.error('server_shutdown');
    return reply
      .code(STATUS_BY_CODE.server_shutdown ?? 503)
      .header('connection', 'close')
      .send({ code: 'server_shutdown', message: 'server is shutting down' });
  });

  if (healthPath) {
    app.get(healthPath, async (_request, reply) => {
      const body: HealthStatus = {
        status: lifecycle.shuttingDown ? 'shutting_down' : 'ok',
        nodeId,
        sessions: sessions.size,
        rooms: metrics.sum('rooms'),
      };
      return reply.code(lifecycle.shuttingDown ? 503 : 200).send(body);
    });
  }

  if (metricsPath) {
    app.get(metricsPath, async (_request, reply) => {
      const families = metrics.families();
      families.push(
        {
          name: 'netloom_info',
          help: 'This node; the value is always 1.',
          type: 'gauge',
          samples: [{ value: 1, labels: { node_id: nodeId } }],
        },
        {
          name: 'netloom_shutting_down',
          help: '1 while this node is shutting down.',
          type: 'gauge',
          samples: [{ value: lifecycle.shuttingDown ? 1 : 0 }],
        },
      );
      if (ops.processMetrics !== false) families.push(...processFamilies());
      return reply.header('content-type', PROMETHEUS_CONTENT_TYPE).send(renderPrometheus(families));
    });
  }
}
