import { cpus, freemem, totalmem } from 'node:os';

/**
 * A sampler of `system/` metrics for the epoch records (tracking.system_metrics): machine CPU % since the previous
 * sample (MLflow's system/cpu_utilization_percentage), machine memory in use and this process's RSS, in MB.
 */
export function createSystemSampler(): () => Record<string, number> {
  let last = cpuTimes();
  return () => {
    const now = cpuTimes();
    const busy = now.busy - last.busy;
    const total = now.total - last.total;
    last = now;
    return {
      'system/cpu_utilization_percentage': total > 0 ? round((100 * busy) / total) : 0,
      'system/system_memory_usage_megabytes': round((totalmem() - freemem()) / 1048576),
      'system/process_rss_megabytes': round(process.memoryUsage.rss() / 1048576),
    };
  };
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of cpus()) {
    const t = cpu.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
