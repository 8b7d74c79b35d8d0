/**
 * A service to upgrade, on the real test dockerd, with no registry: images `<project>/backend:v1`
 * and `:v2` made from the imported busybox image by `docker commit`, each serving
 * `/health` ("ok v1", "ok v2") with busybox httpd, with a healthcheck of its own and a
 * `/bin/migrate` that appends its version to /data/migrations.log. The service container runs
 * v1 compose-style: compose labels and one of its own, a bind mount of a host directory at /data,
 * a user-defined network with the alias "backend", a port published on 127.0.0.1 and a restart
 * policy, so that a recreated container can be compared with it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedDocker, type DockerEngine } from '../harness/docker.ts';
import { freePort } from '../harness/ports.ts';

export interface UpgradeStack {
  engine: DockerEngine;
  project: string;
  /** `<project>/backend`: the repository whose tags /upgrade takes. */
  repo: string;
  container: string;
  network: string;
  /** The host directory mounted at /data. */
  dataDir: string;
  /** The published port of the service's httpd on 127.0.0.1. */
  port: number;
  /** Lines the migrations wrote, oldest first. */
  migrations(): string[];
  inspect(name?: string): Promise<any>;
  imageId(ref: string): Promise<string>;
  close(): Promise<void>;
}

export interface ImageVersion {
  tag: string;
  /** false: its healthcheck always fails (the container never becomes healthy). */
  healthy: boolean;
  /** What /health serves; default "ok <tag>". */
  body?: string;
}

const MIGRATE = '#!/bin/sh\necho "migrated $APP_VERSION" >> /data/migrations.log\n';

export async function startUpgradeStack(versions: ImageVersion[]): Promise<UpgradeStack> {
  const engine = await sharedDocker();
  const project = `up${randomBytes(3).toString('hex')}`;
  const repo = `${project}/backend`;
  const container = `${project}-backend-1`;
  const network = `${project}_default`;
  const dataDir = mkdtempSync(join(tmpdir(), 'opsbot-upgrade-data-'));
  const { docker } = engine;

  for (const v of versions) {
    const builder = `${project}-build-${v.tag}`;
    const script = `mkdir -p /www && echo "${v.body ?? `ok ${v.tag}`}" > /www/health && printf '%s' "$MIGRATE" > /bin/migrate && chmod +x /bin/migrate`;
    await docker('create', '--name', builder, '-e', `MIGRATE=${MIGRATE}`, engine.image, 'sh', '-c', script);
    await docker('start', '-a', builder);
    await docker('commit',
      '--change', `LABEL org.opencontainers.image.version=${v.tag}`,
      '--change', `ENV APP_VERSION=${v.tag}`,
      '--change', v.healthy ? 'HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1:8080/health' : 'HEALTHCHECK --interval=1s --retries=1 CMD false',
      '--change', 'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
      builder, `${repo}:${v.tag}`);
    await docker('rm', builder);
  }
  await docker('network', 'create', network);
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await docker('run', '-d', '--name', container, '--network', network, '--network-alias', 'backend',
        '--label', `com.docker.compose.project=${project}`, '--label', 'com.docker.compose.service=backend',
        '--label', 'com.docker.compose.container-number=1', '--label', 'opsbot.test=kept',
        '-e', 'DATABASE_URL=postgres://app@db/mitong', '-v', `${dataDir}:/data`,
        '-p', `127.0.0.1:${port}:8080`, '--restart', 'unless-stopped', `${repo}:${versions[0].tag}`);
      break;
    } catch (err) {
      await docker('rm', '-f', container).catch(() => undefined);
      if (attempt >= 3) throw err;
    }
  }

  const inspect = async (name = container) => JSON.parse(await docker('inspect', name))[0];
  return {
    engine, project, repo, container, network, dataDir, port, inspect,
    migrations: () => {
      const file = join(dataDir, 'migrations.log');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    },
    imageId: (ref) => docker('image', 'inspect', '--format', '{{.Id}}', ref),
    async close() {
      const ids = (await docker('ps', '-aq', '--filter', `name=${project}`).catch(() => '')).split('\n').filter(Boolean);
      if (ids.length) await docker('rm', '-f', ...ids).catch(() => undefined);
      await docker('network', 'rm', network).catch(() => undefined);
      await docker('rmi', '-f', ...versions.map((v) => `${repo}:${v.tag}`)).catch(() => undefined);
      await engine.stop();
    },
  };
}
