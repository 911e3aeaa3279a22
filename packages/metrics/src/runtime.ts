import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { Counter } from 'prom-client';
import type { Metrics, RuntimeMetricsOptions } from './types.js';

const GC_OBSERVED = Symbol.for('@org/metrics.gc-observed');
const GC_KINDS: Record<number, string> = { 1: 'major', 2: 'minor', 4: 'incremental', 8: 'weakcb', 15: 'all' };

function readMaxFds(): number | undefined {
  try {
    const match = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Node.js and process metrics, named so `promtool check metrics` has nothing to say: prom-client's
 * defaults expose gauges called `nodejs_active_{handles,requests,resources}_total`, and promlint rejects
 * `_total` on anything but a counter. Here those are `nodejs_active_resources{type}` and friends.
 * Returns the function that stops the timers and the GC observer.
 */
export function startRuntimeMetrics(
  metrics: Metrics,
  options: RuntimeMetricsOptions = {},
  names: 'promlint' | 'prom-client' = 'promlint',
): () => void {
  const resolution = options.eventLoopResolutionMs ?? 10;
  const delay = monitorEventLoopDelay({ resolution });
  delay.enable();

  // The three CPU counters advance together by the delta since the last refresh; whichever is collected
  // first in a scrape does the work, so all three describe the same instant.
  let lastCpu = { user: 0, system: 0 };
  const counters: { user?: Counter; system?: Counter; total?: Counter } = {};
  const refreshCpu = () => {
    const now = process.cpuUsage();
    const user = Math.max(0, now.user - lastCpu.user) / 1e6;
    const system = Math.max(0, now.system - lastCpu.system) / 1e6;
    lastCpu = now;
    counters.user?.inc(user);
    counters.system?.inc(system);
    counters.total?.inc(user + system);
  };
  counters.user = metrics.counter({
    name: 'process_cpu_user_seconds_total',
    help: 'User CPU time spent by the process, in seconds.',
    collect: refreshCpu,
  });
  counters.system = metrics.counter({
    name: 'process_cpu_system_seconds_total',
    help: 'System CPU time spent by the process, in seconds.',
    collect: refreshCpu,
  });
  counters.total = metrics.counter({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent by the process, in seconds.',
    collect: refreshCpu,
  });
  const startTime = Math.round(Date.now() / 1000 - process.uptime());
  metrics.gauge({
    name: 'process_start_time_seconds',
    help: 'Start time of the process since the Unix epoch, in seconds.',
    aggregator: 'omit',
    collect() {
      this.set(startTime);
    },
  });
  // One process.memoryUsage() per scrape for the four memory gauges: the collectors of a scrape all run
  // in the same turn of the event loop, so the first one reads and the reading is dropped on the next turn.
  let memory: NodeJS.MemoryUsage | undefined;
  const memoryUsage = (): NodeJS.MemoryUsage => {
    if (memory === undefined) {
      memory = process.memoryUsage();
      setImmediate(() => {
        memory = undefined;
      });
    }
    return memory;
  };
  metrics.gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory size of the process, in bytes.',
    collect() {
      this.set(memoryUsage().rss);
    },
  });
  if (process.platform === 'linux') {
    const maxFds = readMaxFds();
    metrics.gauge({
      name: 'process_open_fds',
      help: 'Number of open file descriptors.',
      collect() {
        try {
          this.set(readdirSync('/proc/self/fd').length);
        } catch {
          // /proc can vanish inside some sandboxes; keep the last value.
        }
      },
    });
    if (maxFds !== undefined) {
      metrics.gauge({
        name: 'process_max_fds',
        help: 'Maximum number of open file descriptors.',
        aggregator: 'omit',
        collect() {
          this.set(maxFds);
        },
      });
    }
  }

  const lag = (name: string, help: string, read: () => number) =>
    metrics.gauge({
      name,
      help,
      aggregator: 'max',
      collect() {
        const v = read();
        this.set(Number.isFinite(v) ? v / 1e9 : 0);
      },
    });
  // The monitor is reset after each scrape so every value describes the last scrape interval.
  metrics.gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Mean event-loop delay since the previous scrape, in seconds.',
    aggregator: 'max',
    collect() {
      this.set((Number.isNaN(delay.mean) ? 0 : delay.mean) / 1e9);
    },
  });
  lag('nodejs_eventloop_lag_p50_seconds', 'Median event-loop delay since the previous scrape, in seconds.', () =>
    delay.percentile(50),
  );
  lag(
    'nodejs_eventloop_lag_p90_seconds',
    '90th percentile of the event-loop delay since the previous scrape, in seconds.',
    () => delay.percentile(90),
  );
  lag(
    'nodejs_eventloop_lag_p99_seconds',
    '99th percentile of the event-loop delay since the previous scrape, in seconds.',
    () => delay.percentile(99),
  );
  metrics.gauge({
    name: 'nodejs_eventloop_lag_max_seconds',
    help: 'Largest event-loop delay since the previous scrape, in seconds.',
    aggregator: 'max',
    collect() {
      this.set(delay.max / 1e9);
      // The max gauge is read last among the lag gauges only by convention; reset on the next tick so the
      // siblings collected in the same scrape still see this interval.
      setImmediate(() => delay.reset());
    },
  });

  metrics.gauge({
    name: 'nodejs_heap_size_total_bytes',
    help: 'V8 heap size, in bytes.',
    collect() {
      this.set(memoryUsage().heapTotal);
    },
  });
  metrics.gauge({
    name: 'nodejs_heap_size_used_bytes',
    help: 'V8 heap in use, in bytes.',
    collect() {
      this.set(memoryUsage().heapUsed);
    },
  });
  metrics.gauge({
    name: 'nodejs_external_memory_bytes',
    help: 'Memory of C++ objects bound to JavaScript objects, in bytes.',
    collect() {
      this.set(memoryUsage().external);
    },
  });
  metrics.gauge({
    name: 'nodejs_heap_space_size_used_bytes',
    help: 'V8 heap space in use, by space, in bytes.',
    labelNames: ['space'],
    collect() {
      for (const s of v8.getHeapSpaceStatistics())
        this.set({ space: s.space_name.replace(/_space$/, '') }, s.space_used_size);
    },
  });
  metrics.gauge({
    name: 'nodejs_active_resources',
    help: 'Active libuv resources keeping the event loop alive, by type.',
    labelNames: ['type'],
    collect() {
      this.reset();
      const counts: Record<string, number> = {};
      for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
      for (const [type, n] of Object.entries(counts)) this.set({ type }, n);
    },
  });
  if (names === 'prom-client') promClientNames(metrics, delay);

  const [major, minor, patch] = process.versions.node.split('.');
  const version = metrics.gauge({
    name: 'nodejs_version_info',
    help: 'Node.js version; the value is always 1.',
    labelNames: ['version', 'major', 'minor', 'patch'],
    aggregator: 'first',
  });
  version.set({ version: process.version, major: major!, minor: minor!, patch: patch! }, 1);

  const gc = metrics.histogram({
    name: 'nodejs_gc_duration_seconds',
    help: 'Garbage collection pauses, by kind, in seconds.',
    labelNames: ['kind'],
    buckets: options.gcBuckets ?? [0.001, 0.01, 0.1, 1, 2, 5],
  });
  // Zeroed series per kind: rate() over them is 0 (not "no data") before the first collection.
  for (const kind of ['major', 'minor', 'incremental', 'weakcb']) gc.zero({ kind });
  // One observer per histogram: a second runtime collector on the same registry must not double-count.
  const owner = gc as unknown as { [GC_OBSERVED]?: boolean };
  let observer: PerformanceObserver | undefined;
  if (!owner[GC_OBSERVED])
    try {
      observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
          gc.observe({ kind: GC_KINDS[entry.detail?.kind ?? 0] ?? 'other' }, entry.duration / 1000);
        }
      });
      observer.observe({ entryTypes: ['gc'] });
      owner[GC_OBSERVED] = true;
    } catch {
      observer = undefined;
    }

  return () => {
    delay.disable();
    if (observer) {
      observer.disconnect();
      owner[GC_OBSERVED] = false;
    }
  };
}

type Internals = { _getActiveHandles?: () => object[]; _getActiveRequests?: () => object[] };

/** Counts of objects by constructor name, as prom-client labels `type`. */
function byType(list: readonly object[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of list) {
    const type = (o as { constructor?: { name?: string } })?.constructor?.name ?? 'Unknown';
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

function readProcStatus(): Record<string, number> {
  try {
    const out: Record<string, number> = {};
    for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
      const m = /^(Vm\w+):\s+(\d+) kB/.exec(line);
      if (m) out[m[1]!] = Number(m[2]) * 1024;
    }
    return out;
  } catch {
    return {};
  }
}

/**
 * The series prom-client's `collectDefaultMetrics` adds beyond the lint-clean set, under prom-client's
 * names and labels, so dashboards written for prom-client (Grafana's Node.js dashboards) find them all.
 */
function promClientNames(metrics: Metrics, delay: ReturnType<typeof monitorEventLoopDelay>): void {
  const internals = process as unknown as Internals;
  const handles = () => internals._getActiveHandles?.() ?? [];
  const requests = () => internals._getActiveRequests?.() ?? [];
  if (process.platform === 'linux') {
    metrics.gauge({
      name: 'process_virtual_memory_bytes',
      help: 'Virtual memory size in bytes.',
      collect() {
        const v = readProcStatus()['VmSize'];
        if (v !== undefined) this.set(v);
      },
    });
    metrics.gauge({
      name: 'process_heap_bytes',
      help: 'Process heap size in bytes.',
      collect() {
        const v = readProcStatus()['VmData'];
        if (v !== undefined) this.set(v);
      },
    });
  }
  const stat = (name: string, help: string, read: () => number) =>
    metrics.gauge({
      name,
      help,
      aggregator: 'max',
      collect() {
        const v = read();
        this.set(Number.isFinite(v) ? v / 1e9 : 0);
      },
    });
  stat('nodejs_eventloop_lag_min_seconds', 'The minimum recorded event loop delay.', () => delay.min);
  stat('nodejs_eventloop_lag_mean_seconds', 'The mean of the recorded event loop delays.', () => delay.mean);
  stat(
    'nodejs_eventloop_lag_stddev_seconds',
    'The standard deviation of the recorded event loop delays.',
    () => delay.stddev,
  );
  const grouped = (name: string, help: string, read: () => Record<string, number>) =>
    metrics.gauge({
      name,
      help,
      labelNames: ['type'],
      collect() {
        this.reset();
        for (const [type, n] of Object.entries(read())) this.set({ type }, n);
      },
    });
  const total = (name: string, help: string, read: () => number) =>
    metrics.gauge({
      name,
      help,
      collect() {
        this.set(read());
      },
    });
  grouped(
    'nodejs_active_handles',
    'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.',
    () => byType(handles()),
  );
  total('nodejs_active_handles_total', 'Total number of active handles.', () => handles().length);
  grouped(
    'nodejs_active_requests',
    'Number of active libuv requests grouped by request type. Every request type is C++ class name.',
    () => byType(requests()),
  );
  total('nodejs_active_requests_total', 'Total number of active requests.', () => requests().length);
  total(
    'nodejs_active_resources_total',
    'Total number of active resources.',
    () => process.getActiveResourcesInfo().length,
  );
  const space = (name: string, help: string, read: (s: v8.HeapSpaceInfo) => number) =>
    metrics.gauge({
      name,
      help,
      labelNames: ['space'],
      collect() {
        for (const s of v8.getHeapSpaceStatistics()) this.set({ space: s.space_name.replace(/_space$/, '') }, read(s));
      },
    });
  space(
    'nodejs_heap_space_size_total_bytes',
    'Process heap space size total from Node.js in bytes.',
    (s) => s.space_size,
  );
  space(
    'nodejs_heap_space_size_available_bytes',
    'Process heap space size available from Node.js in bytes.',
    (s) => s.space_available_size,
  );
}
