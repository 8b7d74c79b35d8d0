import { grade } from '../core/report.ts';
import type { CheckLine } from '../core/report.ts';
import type { HostHealth } from '../targets/types.ts';
import { pct } from './format.ts';
import type { Evaluate } from './types.ts';

export const evaluateHost: Evaluate<HostHealth> = (name, where, f, t) => {
  const lines: CheckLine[] = f.disks.map((d) => ({
    name: `host ${name} disk ${d.mount}`,
    status: grade(d.usePercent, t.disk_percent),
    text: `${d.usePercent}% used (${d.used} of ${d.size}, ${d.avail} free)`,
  }));
  lines.push({
    name: `host ${name} memory`,
    status: grade(f.memory.usedPercent, t.memory_percent),
    text: `${pct(f.memory.usedPercent)} used (${f.memory.used} of ${f.memory.total}, ${f.memory.available} available)`,
  });
  const perCore = f.load.one / f.load.cores;
  lines.push({
    name: `host ${name} load`,
    status: grade(perCore, t.load_per_core),
    text: `${f.load.one.toFixed(2)} on ${f.load.cores} cores (${perCore.toFixed(2)} per core)`,
  });
  return {
    lines,
    detail: {
      title: `Host ${name} (${where})`,
      code: true,
      lines: [
        'Filesystem            Size  Used Avail Use% Mounted on',
        ...f.disks.map((d) => `${d.filesystem.padEnd(20)} ${d.size.padStart(5)} ${d.used.padStart(5)} ${d.avail.padStart(5)} ${`${d.usePercent}%`.padStart(4)} ${d.mount}`),
        '',
        `Mem: total ${f.memory.total}, used ${f.memory.used}, available ${f.memory.available} (${pct(f.memory.usedPercent)} used)`,
        `Load average: ${f.load.one.toFixed(2)} ${f.load.five.toFixed(2)} ${f.load.fifteen.toFixed(2)} on ${f.load.cores} cores`,
      ],
    },
  };
};
