import { z } from 'zod';
import { formatDuration } from '../src/config/duration.ts';
import { defineCommand } from '../src/core/define-command.ts';
import type { Report, Section } from '../src/core/report.ts';
import { gatherFacts } from '../src/diagnose/gather.ts';
import { findService } from '../src/diagnose/services.ts';
import { verdict, type DiagnoseFacts } from '../src/diagnose/verdict.ts';

const USAGE = ['/diagnose <service>'];

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
  if (f.port) out.push({ title: `Port ${f.port.port} on ${f.port.host}`, lines: [f.port.listening === null ? `not checked: ${f.port.error}` : f.port.listening ? 'listening' : 'NOT listening'] });
  if (f.disk) {
    out.push({
      title: `Disk on ${f.disk.host}`,
      lines: f.disk.error ? [`not checked: ${f.disk.error}`] : f.disk.disks.map((d) => `${d.mount}: ${d.usePercent}% used (${d.avail} free)`),
    });
  }
  if (f.deps.length) {
    out.push({
      title: 'Database and cache',
      lines: f.deps.map((d) => {
        const login = d.login.ok ? 'login ok' : `login FAILED: ${d.login.error}`;
        const tcp = !d.tcp ? ''
          : d.tcp.status === 'ok' ? `, TCP from ${d.tcp.from} ok`
            : d.tcp.status === 'failed' ? `, TCP from ${d.tcp.from} FAILED: ${d.tcp.error}`
              : `, TCP from ${d.tcp.from} not checked: ${d.tcp.error}`;
        return `${d.kind} ${d.name} (${d.where}): ${login}${tcp}`;
      }),
    });
  }
  return out;
}

export default defineCommand({
  name: 'diagnose',
  summary: "Run the manual's fault runbooks (§4.1) for a service and give a verdict",
  usage: USAGE,
  positionals: ['service'],
  // Checked in run(), not by the schema, so that an unknown name gets the list and how to add one.
  args: z.object({ service: z.string().min(1).optional() }),
  async run(ctx): Promise<Report> {
    const { name } = findService(ctx.config, ctx.args.service, Object.keys(ctx.config.services), USAGE);
    const facts = await gatherFacts(name, ctx.config, ctx.targets);
    const v = verdict(facts);
    return { title: `Diagnose: ${name}`, status: v.status, summary: v.text, sections: sections(facts) };
  },
});
