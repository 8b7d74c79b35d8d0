/** A compose-labelled stack (backend with a healthcheck, worker, nginx) on the real test dockerd. */
import { randomBytes } from 'node:crypto';
import { sharedDocker, type DockerEngine } from '../harness/docker.ts';

export interface Stack {
  engine: DockerEngine;
  project: string;
  name(service: string): string;
}

export async function startStack(): Promise<Stack> {
  const engine = await sharedDocker();
  const project = `mitong${randomBytes(3).toString('hex')}`;
  await Promise.all([
    engine.runComposeService({ project, service: 'backend', healthcheck: true }),
    engine.runComposeService({ project, service: 'worker' }),
    engine.runComposeService({ project, service: 'nginx' }),
  ]);
  return { engine, project, name: (service) => `${project}-${service}-1` };
}

/** The config block that points opsbot at the stack. */
export function stackConfig(stack: Stack, extra: { stop_timeout?: string } = {}) {
  const svc = (service: string) => ({ docker: 'local', container: stack.name(service), stop_timeout: extra.stop_timeout ?? '1s', ready_timeout: '20s' });
  return {
    targets: { local: false, docker: { local: { socket: stack.engine.socketPath, project: stack.project } } },
    services: { backend: svc('backend'), worker: svc('worker'), nginx: svc('nginx') },
  };
}
