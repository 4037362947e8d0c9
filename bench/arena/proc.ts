// Reads CPU time and memory of processes and of the whole machine from /proc (Linux only).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clkTck: number | undefined;

/** Clock ticks per second of /proc CPU counters (getconf CLK_TCK, usually 100). */
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

export interface ProcCpu {
  /** User and kernel CPU seconds of the process (all threads). */
  user: number;
  kernel: number;
}

/** utime and stime of a process from /proc/<pid>/stat, in seconds. */
export function processCpu(pid: number): ProcCpu {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tck = clockTicks();
  return { user: Number(fields[11]) / tck, kernel: Number(fields[12]) / tck };
}

/** Resident set size of a process in MiB, from /proc/<pid>/status. */
export function processRssMib(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : 0;
}

/** Busy CPU seconds of the whole machine (all cores) from /proc/stat: everything but idle and iowait. */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
  const busy = v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] ?? 0);
  return busy / clockTicks();
}

export interface CpuSample {
  at: number;
  server: ProcCpu;
  loadgen: ProcCpu;
  machine: number;
}

export function sampleCpu(serverPid: number, loadgenPid: number): CpuSample {
  return {
    at: performance.now(),
    server: processCpu(serverPid),
    loadgen: processCpu(loadgenPid),
    machine: machineBusySeconds(),
  };
}
