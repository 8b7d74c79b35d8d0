// Small process-level helpers shared by the server starters in this folder.
import net from 'node:net';

/** Asks the kernel for a free TCP port on 127.0.0.1. Racy by nature, so callers retry on bind errors. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// Servers we start must not outlive the test process, even when a test throws or
// the runner kills us with a signal. 'exit' handlers must be synchronous.
const exitHooks = new Set<() => void>();
let installed = false;

function runExitHooks(): void {
  for (const hook of [...exitHooks]) {
    exitHooks.delete(hook);
    try {
      hook();
    } catch {
      // best effort: keep cleaning up the others
    }
  }
}

/** Registers a synchronous cleanup to run when the process exits; returns an unregister function. */
export function onProcessExit(hook: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runExitHooks);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        runExitHooks();
        // Re-raise so the default behaviour (exit by signal) still happens,
        // unless someone else also listens and wants to decide.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    }
  }
  exitHooks.add(hook);
  return () => exitHooks.delete(hook);
}
