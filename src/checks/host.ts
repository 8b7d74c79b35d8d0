import { grade } from '../core/report.ts';
import type { CheckLine } from '../core/report.ts';
import type { HostHealth } from '../targets/types.ts';
import { load, pct } from './format.ts';
import type { Evaluate } from './types.ts';

// df's own column header: the rows below are df's figures, in df's layout (manual §1.1: df -h).
const DF_HEADER = 'Filesystem            Size  Used Avail Use% Mounted on'; // i18n-exempt: df's output header

/** Sizes stay as df -h and free print them (9.8G), so they can be compared with a shell. */
export const evaluateHost: Evaluate<HostHealth> = (name, where, f, { thresholds, t }) => {
  const lines: CheckLine[] = f.disks.map((d) => ({
    name: t('checks:label.disk', { name, mount: d.mount }),
    status: grade(d.usePercent, thresholds.disk_percent),
    text: t('checks:host.disk', { percent: pct(t, d.usePercent), used: d.used, size: d.size, avail: d.avail }),
  }));
  const memory = { percent: pct(t, f.memory.usedPercent), used: f.memory.used, total: f.memory.total, available: f.memory.available };
  lines.push({
    name: t('checks:label.memory', { name }),
    status: grade(f.memory.usedPercent, thresholds.memory_percent),
    text: t('checks:host.memory', memory),
  });
  const perCore = f.load.one / f.load.cores;
  lines.push({
    name: t('checks:label.load', { name }),
    status: grade(perCore, thresholds.load_per_core),
    text: t('checks:host.load', { one: load(t, f.load.one), count: f.load.cores, perCore: load(t, perCore) }),
  });
  return {
    lines,
    detail: {
      title: t('checks:host.title', { name, where }),
      code: true,
      lines: [
        DF_HEADER,
        ...f.disks.map((d) => `${d.filesystem.padEnd(20)} ${d.size.padStart(5)} ${d.used.padStart(5)} ${d.avail.padStart(5)} ${`${d.usePercent}%`.padStart(4)} ${d.mount}`),
        '',
        t('checks:host.memory_detail', memory),
        t('checks:host.load_detail', { one: load(t, f.load.one), five: load(t, f.load.five), fifteen: load(t, f.load.fifteen), count: f.load.cores }),
      ],
    },
  };
};
