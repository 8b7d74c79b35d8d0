/**
 * `npm test`: starts the servers shared by all test files (PostgreSQL, and Docker Engine when
 * dockerd is installed), runs every *.test.ts with Node's test runner, then stops them.
 * Test files that need to stop a server mid-test start their own.
 *
 * The last line it prints is `N passed, N failed, N skipped`, counting leaf tests. It exits
 * non-zero when a test failed, or when a test was skipped without a reason given in
 * OPSBOT_TEST_ALLOW_SKIP (see README, "Testing"): a skipped suite must not leave CI green.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDocker, type DockerEngine } from './harness/docker.ts';
import { startPostgres } from './harness/postgres.ts';

/** One line of harness/count-reporter.mjs's output. */
interface LeafResult {
  status: 'passed' | 'failed' | 'skipped';
  name: string;
  file?: string;
  message?: string;
}

interface SkipAllowance {
  word: string;
  reason: string;
}

function findTests(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return findTests(p);
    return name.endsWith('.test.ts') ? [p] : [];
  });
}

/**
 * OPSBOT_TEST_ALLOW_SKIP="netns: no ip netns in this container; docker: no dockerd on this runner":
 * entries separated by ";" or newlines, each a word and, after a colon, why skipping is fine here.
 * A skip is allowed when its test name or skip message contains the word (case-insensitive).
 */
function parseAllowances(text: string | undefined): SkipAllowance[] {
  const out: SkipAllowance[] = [];
  for (const entry of (text ?? '').split(/[;\n]/).map((e) => e.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const word = colon < 0 ? '' : entry.slice(0, colon).trim();
    const reason = colon < 0 ? '' : entry.slice(colon + 1).trim();
    if (!word || !reason) {
      console.error(`OPSBOT_TEST_ALLOW_SKIP: "${entry}" needs the form "word: reason" (both non-empty)`);
      process.exit(2);
    }
    out.push({ word: word.toLowerCase(), reason });
  }
  return out;
}

const allowances = parseAllowances(process.env.OPSBOT_TEST_ALLOW_SKIP);
const only = process.argv.slice(2);
const files = only.length ? only : findTests('test').sort();
const resultsDir = mkdtempSync(join(tmpdir(), 'opsbot-test-results-'));
const resultsFile = join(resultsDir, 'leaves.jsonl');
const countReporter = new URL('./harness/count-reporter.mjs', import.meta.url).pathname;

const pg = await startPostgres();
// One dockerd for every file that needs it; files run without one start their own.
const docker: DockerEngine | undefined = existsSync('/usr/sbin/dockerd') || existsSync('/usr/bin/dockerd') ? await startDocker() : undefined;
const dockerEnv = docker ? { OPSBOT_TEST_DOCKER_SOCK: docker.socketPath, OPSBOT_TEST_DOCKER_IMAGE: docker.image } : {};
let code = 1;
try {
  const child = spawn(
    process.execPath,
    [
      '--import', 'tsx', '--test', '--test-concurrency=2',
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      `--test-reporter=${countReporter}`, `--test-reporter-destination=${resultsFile}`,
      ...files,
    ],
    { stdio: 'inherit', env: { ...process.env, ...dockerEnv, OPSBOT_TEST_PG_URL: pg.url, LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent' } },
  );
  code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
} finally {
  await Promise.allSettled([pg.stop(), docker?.stop()]);
}

const leaves: LeafResult[] = existsSync(resultsFile)
  ? readFileSync(resultsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LeafResult)
  : [];
rmSync(resultsDir, { recursive: true, force: true });
const count = (status: LeafResult['status']) => leaves.filter((l) => l.status === status).length;
const [passed, failed, skipped] = [count('passed'), count('failed'), count('skipped')];

let unexplained = 0;
if (skipped) {
  console.log('\nSkipped tests:');
  for (const leaf of leaves.filter((l) => l.status === 'skipped')) {
    const haystack = `${leaf.name} ${leaf.message ?? ''}`.toLowerCase();
    const allowed = allowances.find((a) => haystack.includes(a.word));
    if (!allowed) unexplained++;
    const where = leaf.file ? `${leaf.file.replace(`${process.cwd()}/`, '')}: ` : '';
    const verdict = allowed ? `allowed by OPSBOT_TEST_ALLOW_SKIP (${allowed.word}: ${allowed.reason})` : 'NOT ALLOWED: no OPSBOT_TEST_ALLOW_SKIP entry covers it';
    console.log(`- ${where}${leaf.name}: ${leaf.message || '(no message)'} — ${verdict}`);
  }
}
if (unexplained) console.log(`${unexplained} skipped without a reason in OPSBOT_TEST_ALLOW_SKIP: failing the run.`);
if (!leaves.length) console.log('No test results were recorded: failing the run.');
if (code === 0 && failed) console.log('The test runner exited 0 but tests failed: failing the run.');
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code !== 0 || failed > 0 || unexplained > 0 || leaves.length === 0 ? 1 : 0);
