/**
 * A service to upgrade, on the real test dockerd, with no registry: images `<project>/backend:v1`
 * and `:v2` made from the imported busybox image by `docker commit`, each serving
 * `/health` ("ok v1", "ok v2") with busybox httpd, with a healthcheck of its own and a
 * `/bin/migrate` that appends its version to /data/migrations.log. The service container runs
 * v1 compose-style: compose labels and one of its own, a bind mount of a host directory at /data,
 * a user-defined network with the alias "backend", a port published on 127.0.0.1 and a restart
 * policy, so that a recreated container can be compared with it.
 *
 * With `worker`, a second service "worker" runs beside it, from its own repository
 * `<project>/worker`, with compose labels of its own, a bind mount of its own host directory at
 * /jobs, and two user-defined networks: the project's default one (alias "worker") and
 * `<project>_jobs` (alias "jobs"), joined after it was started, as compose does for a second network.
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
  /** The second service, when asked for. */
  worker?: {
    repo: string;
    container: string;
    /** The second network it is on (alias "jobs"); it is also on `network` (alias "worker"). */
    jobsNetwork: string;
    dataDir: string;
  };
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
  /** false: the image has no /www/ready, so a smoke command `test -f /www/ready` fails; default true. */
  ready?: boolean;
}

export interface UpgradeStackOptions {
  /** The versions of a second service "worker" (see above); the container runs the first. */
  worker?: ImageVersion[];
}

const MIGRATE = '#!/bin/sh\necho "migrated $APP_VERSION" >> /data/migrations.log\n';

/** `<repo>:<tag>` for each version, made from the busybox image by `docker commit`. */
async function buildImages(engine: DockerEngine, project: string, repo: string, versions: ImageVersion[]): Promise<void> {
  const { docker } = engine;
  const name = repo.slice(repo.lastIndexOf('/') + 1);
  for (const v of versions) {
    const builder = `${project}-build-${name}-${v.tag}`;
    const ready = v.ready === false ? '' : ' && touch /www/ready';
    const script = `mkdir -p /www && echo "${v.body ?? `ok ${v.tag}`}" > /www/health${ready} && printf '%s' "$MIGRATE" > /bin/migrate && chmod +x /bin/migrate`;
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
}

export async function startUpgradeStack(versions: ImageVersion[], opts: UpgradeStackOptions = {}): Promise<UpgradeStack> {
  const engine = await sharedDocker();
  const project = `up${randomBytes(3).toString('hex')}`;
  const repo = `${project}/backend`;
  const container = `${project}-backend-1`;
  const network = `${project}_default`;
  const dataDir = mkdtempSync(join(tmpdir(), 'opsbot-upgrade-data-'));
  const { docker } = engine;

  await buildImages(engine, project, repo, versions);
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

  let worker: UpgradeStack['worker'];
  if (opts.worker) {
    worker = {
      repo: `${project}/worker`, container: `${project}-worker-1`, jobsNetwork: `${project}_jobs`,
      dataDir: mkdtempSync(join(tmpdir(), 'opsbot-upgrade-jobs-')),
    };
    await buildImages(engine, project, worker.repo, opts.worker);
    await docker('network', 'create', worker.jobsNetwork);
    await docker('run', '-d', '--name', worker.container, '--network', network, '--network-alias', 'worker',
      '--label', `com.docker.compose.project=${project}`, '--label', 'com.docker.compose.service=worker',
      '--label', 'com.docker.compose.container-number=1', '--label', 'opsbot.test=worker',
      '-e', 'QUEUE_URL=redis://queue:6379/0', '-v', `${worker.dataDir}:/jobs`,
      '--restart', 'unless-stopped', `${worker.repo}:${opts.worker[0].tag}`);
    await docker('network', 'connect', '--alias', 'jobs', worker.jobsNetwork, worker.container);
  }

  const inspect = async (name = container) => JSON.parse(await docker('inspect', name))[0];
  return {
    engine, project, repo, container, network, dataDir, port, worker, inspect,
    migrations: () => {
      const file = join(dataDir, 'migrations.log');
      return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    },
    imageId: (ref) => docker('image', 'inspect', '--format', '{{.Id}}', ref),
    async close() {
      const ids = (await docker('ps', '-aq', '--filter', `name=${project}`).catch(() => '')).split('\n').filter(Boolean);
      if (ids.length) await docker('rm', '-f', ...ids).catch(() => undefined);
      await docker('network', 'rm', network).catch(() => undefined);
      if (worker) await docker('network', 'rm', worker.jobsNetwork).catch(() => undefined);
      await docker('rmi', '-f', ...versions.map((v) => `${repo}:${v.tag}`)).catch(() => undefined);
      if (worker) await docker('rmi', '-f', ...opts.worker!.map((v) => `${worker!.repo}:${v.tag}`)).catch(() => undefined);
      await engine.stop();
    },
  };
}
