// Starts a throwaway PostgreSQL cluster for integration tests (see RECIPES.md, "PostgreSQL").
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, onProcessExit } from './ports.ts';

const execFileAsync = promisify(execFile);

export interface PgServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** Temp dir holding data, socket and log; '' for an external server. */
  dir: string;
  /** Creates an empty database (random name if omitted) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server and removes its dir; a no-op for an external server. */
  stop(): Promise<void>;
}

// initdb refuses to run as root, so every server binary runs as the postgres user then.
const asRoot = process.getuid?.() === 0;

function wrap(bin: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

/** The bin dir of the highest installed major version, e.g. /usr/lib/postgresql/15/bin. */
function pgBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root) : [];
  const found = versions
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => parseFloat(b) - parseFloat(a));
  if (found.length === 0) throw new Error(`no PostgreSQL server binaries under ${root}/*/bin`);
  return join(root, found[0], 'bin');
}

async function run(bin: string, args: string[]): Promise<void> {
  const [file, argv] = wrap(bin, args);
  try {
    await execFileAsync(file, argv);
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw new Error(`${file} ${argv.join(' ')} failed: ${e.stderr || e.stdout || e.message}`);
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function createDatabaseAt(serverUrl: string, name?: string): Promise<string> {
  const dbName = name ?? `opsbot_test_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${quoteIdent(dbName)}`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(dbName)}`;
  return url.toString();
}

export async function startPostgres(): Promise<PgServer> {
  const bin = pgBinDir();
  const dir = await mkdtemp(join(tmpdir(), 'opsbot-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'pg.log');
  const pgCtl = join(bin, 'pg_ctl');
  if (asRoot) await execFileAsync('chown', ['postgres:postgres', dir]);

  // --no-sync: a test cluster never needs to survive a power cut, and it saves seconds.
  await run(join(bin, 'initdb'), [
    '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync',
  ]);

  // The free port can be taken between freePort() and bind, so try a few.
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    // pg_stat_statements is preloaded as the manual's server would have it, for /db slow; Debian's
    // postgresql package ships it (the contrib modules are part of it).
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_preload_libraries=pg_stat_statements`;
    try {
      await run(pgCtl, ['-D', data, '-l', log, '-o', opts, '-w', '-t', '60', 'start']);
      break;
    } catch (err) {
      if (attempt < 3) continue;
      const tail = await readFile(log, 'utf8').catch(() => '');
      await rm(dir, { recursive: true, force: true });
      throw new Error(`${(err as Error).message}\n--- pg.log ---\n${tail.slice(-2000)}`);
    }
  }

  // If the test process dies first, stop the cluster synchronously ('immediate' is quickest).
  const unregister = onProcessExit(() => {
    try {
      const [file, argv] = wrap(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      execFileSync(file, argv, { stdio: 'ignore' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    dir,
    createDatabase: (name) => createDatabaseAt(url, name),
    stop() {
      stopping ??= (async () => {
        unregister();
        try {
          await run(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
  };
}

/** Wraps a server someone else runs (OPSBOT_TEST_PG_URL); we never stop it. */
function externalPostgres(url: string): PgServer {
  return {
    url,
    port: Number(new URL(url).port || 5432),
    dir: '',
    createDatabase: (name) => createDatabaseAt(url, name),
    stop: async () => {},
  };
}

let shared: Promise<PgServer> | undefined;

/**
 * One server per test process: OPSBOT_TEST_PG_URL if set, else a cluster started on first use.
 * It is stopped on process exit; call stopSharedPostgres() from `after` to stop it earlier.
 */
export function sharedPostgres(): Promise<PgServer> {
  if (!shared) {
    const external = process.env.OPSBOT_TEST_PG_URL;
    const starting = external ? Promise.resolve(externalPostgres(external)) : startPostgres();
    shared = starting;
    // A failed start should not poison later calls.
    starting.catch(() => {
      if (shared === starting) shared = undefined;
    });
  }
  return shared;
}

export async function stopSharedPostgres(): Promise<void> {
  const current = shared;
  shared = undefined;
  if (current) await (await current).stop();
}

/**
 * Fills a database with pgbench's tables (`pgbench -i -s scale`): at scale 1, 100,000 accounts,
 * about 15 MB; scale 50 is about 750 MB. Data generated on the server side (-I dtGvp) is quickest.
 */
export async function pgbenchInit(url: string, scale: number): Promise<void> {
  await execFileAsync(join(pgBinDir(), 'pgbench'), ['-i', '-q', '-s', String(scale), '-I', 'dtGvp', url], { maxBuffer: 16 << 20 });
}
