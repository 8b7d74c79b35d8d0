/**
 * What /upgrade needs of a Docker Engine beyond DockerExecutor: images, and recreating a container
 * from another image with the same configuration, as compose does on `up` after a pull. The
 * container's own settings (env, labels, command, healthcheck…) that merely repeat its old image's
 * are left out, so the new image's defaults apply, exactly as when compose creates it afresh.
 */
import { isDeepStrictEqual } from 'node:util';
import Docker from 'dockerode';
import { UnavailableError, UserError } from '../core/errors.ts';
import { dockerCall } from './docker.ts';
import { msg } from '../i18n/index.ts';
import { TimedOutError } from './errors.ts';

/** Docker's rule for names; anything else would be spliced into the API path. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const COMPOSE_LABEL = /^com\.docker\.compose\./;

export interface ImageRef {
  /** sha256:… */
  id: string;
  /** repository@sha256:… when it came from a registry; none for an image built or imported here. */
  digest: string | null;
}

export type RawContainer = Docker.ContainerInspectInfo;

const statusCode = (err: unknown) => (err as { statusCode?: number } | null)?.statusCode;

/** The entries of `own` that its image does not already give (env lines, labels, ports…). */
function ownEntries<V>(own: Record<string, V> | undefined, image: Record<string, V> | undefined): Record<string, V> | undefined {
  if (!own) return undefined;
  const out = Object.fromEntries(Object.entries(own).filter(([k, v]) => !image || !(k in image) || !isDeepStrictEqual(image[k], v)));
  return Object.keys(out).length ? out : undefined;
}

/** A setting of the container, unless it is its image's own (then the new image's applies). */
const unlessInherited = <V>(own: V, image: V | undefined, hasImage: boolean): V | undefined =>
  hasImage && isDeepStrictEqual(own, image) ? undefined : own;

/**
 * The create options that make a container like `c` from `image`, named `name`. `old` is the
 * image `c` was made from (null when it is gone: then every setting of `c` is kept).
 */
export function recreateSpec(c: RawContainer, old: Docker.ImageInspectInfo | null, image: string, name: string): Docker.ContainerCreateOptions & { HostConfig: Docker.HostConfig } {
  const cfg = c.Config;
  const img = old?.Config;
  const has = !!img;
  const envOf = (lines: string[] | undefined) => Object.fromEntries((lines ?? []).map((l) => [l.split('=')[0], l]));
  const env = ownEntries(envOf(cfg.Env), has ? envOf(img.Env) : undefined);
  const host: Docker.HostConfig = { ...c.HostConfig };
  // Anonymous volumes are carried over by name, as compose does, so their data stays.
  const claimed = new Set([...(host.Binds ?? []).map((b) => b.split(':')[1]), ...(host.Mounts ?? []).map((m) => m.Target)]);
  const anonymous = (c.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name && !claimed.has(m.Destination));
  if (anonymous.length) host.Binds = [...(host.Binds ?? []), ...anonymous.map((m) => `${m.Name}:${m.Destination}${m.RW ? '' : ':ro'}`)];
  const hostname = cfg.Hostname && cfg.Hostname !== c.Id.slice(0, 12) ? cfg.Hostname : undefined;
  return {
    name,
    Image: image,
    Hostname: hostname,
    Domainname: cfg.Domainname || undefined,
    User: unlessInherited(cfg.User, img?.User, has) || undefined,
    Env: env ? Object.values(env) : undefined,
    Cmd: unlessInherited(cfg.Cmd ?? undefined, img?.Cmd ?? undefined, has),
    Entrypoint: unlessInherited(cfg.Entrypoint ?? undefined, (img?.Entrypoint as string[] | undefined) ?? undefined, has),
    WorkingDir: unlessInherited(cfg.WorkingDir, img?.WorkingDir, has) || undefined,
    Labels: ownEntries(cfg.Labels ?? undefined, has ? (img.Labels ?? {}) : undefined),
    ExposedPorts: ownEntries(cfg.ExposedPorts, has ? (img.ExposedPorts ?? {}) : undefined),
    Volumes: ownEntries(cfg.Volumes, has ? (img.Volumes ?? {}) : undefined),
    Healthcheck: unlessInherited((cfg as { Healthcheck?: Docker.HealthConfig }).Healthcheck, (img as { Healthcheck?: Docker.HealthConfig } | undefined)?.Healthcheck, has),
    StopSignal: unlessInherited((cfg as { StopSignal?: string }).StopSignal, (img as { StopSignal?: string } | undefined)?.StopSignal, has),
    Tty: cfg.Tty,
    OpenStdin: cfg.OpenStdin,
    StdinOnce: cfg.StdinOnce,
    HostConfig: host,
    NetworkingConfig: primaryNetwork(c),
  };
}

/** The networks the container is on, with its aliases (less the id Docker adds itself), links and fixed addresses. */
export function networksOf(c: RawContainer): Array<{ name: string; endpoint: Docker.EndpointSettings }> {
  const mode = c.HostConfig.NetworkMode ?? 'default';
  if (mode === 'none' || mode === 'host' || mode.startsWith('container:')) return [];
  const short = c.Id.slice(0, 12);
  return Object.entries(c.NetworkSettings.Networks ?? {}).map(([name, n]) => ({
    name,
    endpoint: {
      Aliases: ((n.Aliases ?? []) as string[]).filter((a) => a !== short && a !== c.Id),
      Links: n.Links ?? undefined,
      IPAMConfig: n.IPAMConfig ?? undefined,
    } as Docker.EndpointSettings,
  }));
}

/** The API of this engine version takes one network at create; the others are connected after. */
function primaryNetwork(c: RawContainer): Docker.ContainerCreateOptions['NetworkingConfig'] {
  const nets = networksOf(c);
  const mode = c.HostConfig.NetworkMode ?? 'default';
  const first = nets.find((n) => n.name === mode) ?? nets[0];
  return first ? { EndpointsConfig: { [first.name]: first.endpoint } } : undefined;
}

/** The spec of a one-off container for a command (a migration): the service's env, mounts and network, nothing it serves. */
export function oneOffSpec(c: RawContainer, old: Docker.ImageInspectInfo | null, image: string, name: string, cmd: string[]): Docker.ContainerCreateOptions {
  const spec = recreateSpec(c, old, image, name);
  const labels = Object.fromEntries(Object.entries(spec.Labels ?? {}).filter(([k]) => !COMPOSE_LABEL.test(k)));
  const endpoints = spec.NetworkingConfig?.EndpointsConfig ?? {};
  return {
    ...spec,
    Cmd: cmd,
    Labels: labels,
    // Not a replica of the service: no published ports, no health, no restarts, no service alias.
    Healthcheck: { Test: ['NONE'] },
    HostConfig: { ...spec.HostConfig, PortBindings: {}, PublishAllPorts: false, RestartPolicy: { Name: 'no' }, AutoRemove: false },
    NetworkingConfig: { EndpointsConfig: Object.fromEntries(Object.entries(endpoints).map(([k, e]) => [k, { ...e, Aliases: [] }])) },
  };
}

/** One Docker Engine over its socket, for the changes an upgrade makes. Every call is bounded in time. */
export class DockerRecreate {
  private readonly docker: Docker;

  constructor(readonly name: string, private readonly socket: string, private readonly timeoutMs: number) {
    this.docker = new Docker({ socketPath: socket });
  }

  private call<T>(work: (abortSignal: AbortSignal) => Promise<T>, ms = this.timeoutMs): Promise<T> {
    return dockerCall(this.socket, ms, work);
  }

  private ref(name: string): string {
    if (!NAME.test(name)) throw new UserError(msg('targets:docker.invalid_name', { ref: name }));
    return name;
  }

  /** The full inspection of a container; null when there is none by that name or id. */
  async container(name: string): Promise<RawContainer | null> {
    try {
      return await this.call((abortSignal) => this.docker.getContainer(this.ref(name)).inspect({ abortSignal }));
    } catch (err) {
      if (statusCode(err) === 404) return null;
      throw err;
    }
  }

  /** Containers whose name starts with `prefix` (running or not), by name. */
  async named(prefix: string): Promise<Array<{ id: string; name: string; state: string; image: string }>> {
    const found = await this.call((abortSignal) => this.docker.listContainers({ all: true, filters: { name: [`^/${this.ref(prefix)}`] }, abortSignal }));
    return found.map((c) => ({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), state: c.State, image: c.Image }))
      .filter((c) => c.name.startsWith(prefix)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** An image by reference or id; null when the engine does not have it. */
  async image(ref: string): Promise<(ImageRef & { raw: Docker.ImageInspectInfo }) | null> {
    try {
      const raw = await this.call(() => this.docker.getImage(ref).inspect());
      return { id: raw.Id, digest: raw.RepoDigests?.[0] ?? null, raw };
    } catch (err) {
      if (statusCode(err) === 404) return null;
      throw err;
    }
  }

  /** Pulls `ref` (repository:tag); the engine's own reason when it cannot (no registry, no such tag). */
  async pull(ref: string, timeoutMs: number): Promise<{ ok: true } | { ok: false; reason: string }> {
    try {
      await this.call(async () => {
        const stream = await this.docker.pull(ref);
        // The pull's outcome is in its progress stream: an error there fails it.
        await new Promise<void>((resolve, reject) => {
          this.docker.modem.followProgress(stream, (err: Error | null, events: Array<{ error?: string }>) => {
            const failed = events?.find((e) => e.error);
            if (err || failed) reject(err ?? new Error(failed!.error));
            else resolve();
          });
        });
      }, timeoutMs);
      return { ok: true };
    } catch (err) {
      if (err instanceof UnavailableError && !(err instanceof TimedOutError)) throw err;
      const text = (err as { json?: { message?: string } }).json?.message ?? (err instanceof UserError ? err.message : (err as Error).message);
      return { ok: false, reason: text.trim() };
    }
  }

  async stop(name: string, stopTimeoutSec: number): Promise<void> {
    await this.call((abortSignal) => this.docker.getContainer(this.ref(name)).stop({ t: stopTimeoutSec, abortSignal }), stopTimeoutSec * 1000 + Math.max(this.timeoutMs, 15_000))
      .catch((err: unknown) => {
        if (statusCode(err) !== 304) throw err; // already stopped
      });
  }

  async start(name: string): Promise<void> {
    await this.call((abortSignal) => this.docker.getContainer(this.ref(name)).start({ abortSignal }), Math.max(this.timeoutMs, 15_000))
      .catch((err: unknown) => {
        if (statusCode(err) !== 304) throw err; // already running
      });
  }

  async rename(name: string, to: string): Promise<void> {
    await this.call(() => this.docker.getContainer(this.ref(name)).rename({ name: this.ref(to) }));
  }

  /** Removes a container (stopped or not); one already gone is fine. */
  async remove(name: string): Promise<void> {
    await this.call(() => this.docker.getContainer(this.ref(name)).remove({ force: true, v: false }), Math.max(this.timeoutMs, 15_000))
      .catch((err: unknown) => {
        if (statusCode(err) !== 404) throw err;
      });
  }

  /** Creates a container like `c` (see recreateSpec) and joins it to every network `c` was on. Returns its id. */
  async createLike(c: RawContainer, spec: Docker.ContainerCreateOptions, opts: { aliases: boolean }): Promise<string> {
    const made = await this.call(() => this.docker.createContainer(spec));
    const first = Object.keys(spec.NetworkingConfig?.EndpointsConfig ?? {});
    try {
      for (const n of networksOf(c).filter((x) => !first.includes(x.name))) {
        const endpoint = opts.aliases ? n.endpoint : { ...n.endpoint, Aliases: [] };
        await this.call(() => this.docker.getNetwork(n.name).connect({ Container: made.id, EndpointConfig: endpoint }));
      }
    } catch (err) {
      // Half made is not made: it would hold the name the old container must get back.
      await this.remove(made.id).catch(() => undefined);
      throw err;
    }
    return made.id;
  }

  /** Waits for a container to exit; its exit code, or null when it did not within `timeoutMs` (it is then killed). */
  async wait(id: string, timeoutMs: number): Promise<number | null> {
    try {
      const r = await this.call((abortSignal) => this.docker.getContainer(this.ref(id)).wait({ abortSignal }) as Promise<{ StatusCode: number }>, timeoutMs);
      return r.StatusCode;
    } catch (err) {
      if (!(err instanceof TimedOutError)) throw err;
      await this.call(() => this.docker.getContainer(id).kill()).catch(() => undefined);
      return null;
    }
  }

  /**
   * Runs `cmd` in a running container (docker exec, argv only); its exit code, or null past
   * `timeoutMs`. `output` is both streams as they came; `stdout` and `stderr` apart, for a tool
   * whose report is on stdout and whose complaints are on stderr. Each keeps its first
   * `maxBytes` (default 16 KiB); `truncated` says when more came.
   */
  async exec(name: string, cmd: string[], timeoutMs: number, opts: { maxBytes?: number } = {}): Promise<{ code: number | null; output: string; stdout: string; stderr: string; truncated: boolean }> {
    const max = opts.maxBytes ?? 16_384;
    const c = this.docker.getContainer(this.ref(name));
    const e = await this.call(() => c.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true }));
    const both: Buffer[] = [];
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const size = { both: 0, out: 0, err: 0 };
    let truncated = false;
    const keep = (into: Buffer[], key: 'out' | 'err', b: Buffer) => {
      if (size[key] < max) { into.push(b); size[key] += b.length; } else truncated = true;
      if (size.both < max) { both.push(b); size.both += b.length; }
    };
    const text = () => ({
      output: Buffer.concat(both).toString('utf8'),
      stdout: Buffer.concat(out).subarray(0, max).toString('utf8'),
      stderr: Buffer.concat(err).subarray(0, max).toString('utf8'),
      truncated: truncated || size.out > max || size.err > max,
    });
    try {
      await this.call(async () => {
        const stream = await e.start({ hijack: true, stdin: false });
        const sink = (into: Buffer[], key: 'out' | 'err') => ({ write: (b: Buffer) => { keep(into, key, b); return true; } });
        this.docker.modem.demuxStream(stream, sink(out, 'out') as never, sink(err, 'err') as never);
        await new Promise<void>((resolve, reject) => {
          stream.on('end', resolve);
          stream.on('close', resolve);
          stream.on('error', reject);
        });
      }, timeoutMs);
    } catch (error) {
      if (!(error instanceof TimedOutError)) throw error;
      return { code: null, ...text() };
    }
    const info = await this.call(() => e.inspect());
    return { code: info.ExitCode ?? null, ...text() };
  }
}

/** One per engine socket and config: dockerode opens a connection per call, so there is nothing to close. */
const engines = new Map<string, DockerRecreate>();

export function dockerRecreate(name: string, socket: string, timeoutMs: number): DockerRecreate {
  const key = `${name}\0${socket}\0${timeoutMs}`;
  let d = engines.get(key);
  if (!d) engines.set(key, (d = new DockerRecreate(name, socket, timeoutMs)));
  return d;
}
