import { UserError } from '../core/errors.ts';
import { msg } from '../i18n/index.ts';
import type { DockerExecutor, HostExecutor, HostHealth, RunOptions, RunResult, TemplateName, Templates } from '../targets/types.ts';

/**
 * A container as the machine a dump runs on (run_on: docker:<target>/<container>): templates run
 * inside it with docker exec, so the dump uses the container's own pg_dump and disk.
 */
export class DockerExecHost implements HostExecutor {
  readonly name: string;
  readonly where: string;

  constructor(private readonly docker: DockerExecutor, private readonly container: string) {
    this.name = `docker:${docker.name}/${container}`;
    this.where = this.name;
  }

  health(): Promise<HostHealth> {
    throw new UserError(msg('backup:errors.docker_exec_unsupported', { where: this.name }));
  }

  run<K extends TemplateName>(_template: K, _args: Parameters<Templates[K]>, _opts?: RunOptions): Promise<RunResult> {
    return Promise.reject(new UserError(msg('backup:errors.docker_exec_unsupported', { where: this.name })));
  }

  async close(): Promise<void> {}
}
