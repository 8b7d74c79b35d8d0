/**
 * Progress while a long step runs: `tick` every `everyMs` until `work` settles. The wait between
 * ticks ends as soon as the work does, so a short step is never held up by the poll.
 */
export async function whileRunning<R>(work: Promise<R>, everyMs: number, tick: () => Promise<void>): Promise<R> {
  let done = false;
  let wake = () => {};
  const poll = (async () => {
    while (!done) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, everyMs);
        wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      if (!done) await tick().catch(() => {});
    }
  })();
  try {
    return await work;
  } finally {
    done = true;
    wake();
    await poll;
  }
}
