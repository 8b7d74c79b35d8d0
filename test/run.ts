/**
 * `npm test`: starts the servers shared by all test files (PostgreSQL, and Docker Engine when
 * dockerd is installed), runs every *.test.ts with Node's test runner, then stops them.
 * Test files that need to stop a server mid-test start their own.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { startDocker, type DockerEngine } from './harness/docker.ts';
import { startPostgres } from './harness/postgres.ts';

function findTests(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return findTests(p);
    return name.endsWith('.test.ts') ? [p] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length ? only : findTests('test').sort();
const pg = await startPostgres();
// One dockerd for every file that needs it; files run without one start their own.
const docker: DockerEngine | undefined = existsSync('/usr/sbin/dockerd') || existsSync('/usr/bin/dockerd') ? await startDocker() : undefined;
const dockerEnv = docker ? { OPSBOT_TEST_DOCKER_SOCK: docker.socketPath, OPSBOT_TEST_DOCKER_IMAGE: docker.image } : {};
let code = 1;
try {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
    { stdio: 'inherit', env: { ...process.env, ...dockerEnv, OPSBOT_TEST_PG_URL: pg.url, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' } },
  );
  code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
} finally {
  await Promise.allSettled([pg.stop(), docker?.stop()]);
}
process.exit(code);
