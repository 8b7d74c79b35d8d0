import { z } from 'zod';
import { formatDuration } from '../src/config/duration.ts';
import type { Config } from '../src/config/schema.ts';
import { defineCommand } from '../src/core/define-command.ts';
import type { Report, Section } from '../src/core/report.ts';
import { gatherFacts } from '../src/diagnose/gather.ts';
import { verdict, type DiagnoseFacts } from '../src/diagnose/verdict.ts';

const services = (config: Config) => Object.keys(config.services);

function sections(f: DiagnoseFacts): Section[] {
  const out: Section[] = [];
  const c = f.container;
  if (c) {
    const i = c.info;
    out.push({
      title: `Container ${c.name}`,
      lines: c.error ? [`cannot inspect: ${c.error}`] : !i ? ['does not exist'] : [
        `state: ${i.state}${i.exitCode !== null ? ` (exit code ${i.exitCode})` : ''}${i.health ? `, ${i.health}` : ''}`,
        `restarts: ${i.restartCount}; ${i.state === 'running' && i.startedAt ? `up ${formatDuration(Date.now() - i.startedAt.getTime())}` : `finished ${i.finishedAt?.toISOString() ?? 'never'}`}`,
        `image: ${i.image}`,
        `command: ${i.command.join(' ')}`,
      ],
    });
    if (c.logTail.length) out.push({ title: `Last ${c.logTail.length} log lines`, code: true, lines: c.logTail });
  }
  if (f.port) out.push({ title: `Port ${f.port.port} on ${f.port.host}`, lines: [f.port.error ? `ss -ltn failed: ${f.port.error}` : f.port.listening ? 'listening' : 'NOT listening'] });
  if (f.disk) {
    out.push({
      title: `Disk on ${f.disk.host}`,
      lines: f.disk.error ? [`unavailable: ${f.disk.error}`] : f.disk.disks.map((d) => `${d.mount}: ${d.usePercent}% used (${d.avail} free)`),
    });
  }
  if (f.deps.length) {
    out.push({
      title: 'Database and cache',
      lines: f.deps.map((d) => {
        const login = d.login.ok ? 'login ok' : `login FAILED: ${d.login.error}`;
        const tcp = d.tcp ? (d.tcp.ok ? `, TCP from ${d.tcp.from} ok` : `, TCP from ${d.tcp.from} FAILED: ${d.tcp.error}`) : '';
        return `${d.kind} ${d.name} (${d.where}): ${login}${tcp}`;
      }),
    });
  }
  return out;
}

export default defineCommand({
  name: 'diagnose',
  summary: "Run the manual's fault runbooks (§4.1) for a service and give a verdict",
  usage: ['/diagnose <service>'],
  positionals: ['service'],
  args: (config) => {
    const names = services(config);
    return z.object({ service: names.length ? z.enum(names as [string, ...string[]]) : z.string() });
  },
  async run(ctx): Promise<Report> {
    const facts = await gatherFacts(ctx.args.service, ctx.config, ctx.targets);
    const v = verdict(facts);
    return { title: `Diagnose: ${ctx.args.service}`, status: v.ok ? 'ok' : 'crit', summary: v.text, sections: sections(facts) };
  },
});
