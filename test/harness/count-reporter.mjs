// @ts-check
/**
 * A node:test reporter that test/run.ts runs beside `spec`: one JSON line per leaf test (a test
 * with no subtests; describe() suites are not tests), so that the runner can count passed,
 * failed and skipped tests and name every skip with its message. Plain JavaScript: Node 20 loads
 * reporters without the --import hooks, so TypeScript is not an option here.
 *
 * Events of files that run at the same time interleave, but within one file they come in order,
 * each test after its subtests; so a test is a leaf when nothing one level deeper finished since
 * its previous sibling did.
 *
 * @typedef {{ status: 'passed' | 'failed' | 'skipped', name: string, file?: string, message?: string }} LeafResult
 * @typedef {{ name: string, leaves: LeafResult[] }} Done
 */

/** @param {AsyncIterable<{ type: string, data: any }>} source */
export default async function* countReporter(source) {
  /** Per file: finished tests per nesting level, waiting for their parent to finish. @type {Map<string, Done[][]>} */
  const files = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const data = event.data;
    const key = data.file ?? '';
    const levels = files.get(key) ?? [];
    files.set(key, levels);
    const children = levels[data.nesting + 1] ?? [];
    levels[data.nesting + 1] = [];
    /** @type {LeafResult[]} */
    let leaves;
    if (children.length) {
      leaves = children.flatMap((c) => c.leaves.map((l) => ({ ...l, name: `${data.name} › ${l.name}` })));
      // Failed itself with every subtest passing (a hook, or the test's own code after its
      // subtests, threw): one failure of its own, or the count would say all is well.
      if (event.type === 'test:fail' && !leaves.some((l) => l.status === 'failed')) {
        leaves.push({ status: 'failed', name: `${data.name} (outside its tests)`, file: data.file });
      }
    } else if (data.details?.type === 'suite' && event.type === 'test:pass') {
      leaves = []; // an empty describe() holds no test
    } else {
      // A skipped or todo test is not run: it counts as skipped whatever its body would do.
      // A suite that failed with no test reported (its before() hook threw) is one failure.
      const mark = data.skip !== undefined && data.skip !== false ? data.skip
        : data.todo !== undefined && data.todo !== false ? data.todo : undefined;
      /** @type {LeafResult} */
      const leaf = { status: mark !== undefined ? 'skipped' : event.type === 'test:pass' ? 'passed' : 'failed', name: data.name, file: data.file };
      if (mark !== undefined) leaf.message = typeof mark === 'string' ? mark : data.todo ? 'todo' : '';
      leaves = [leaf];
    }
    if (data.nesting === 0) {
      for (const leaf of leaves) yield `${JSON.stringify(leaf)}\n`;
    } else {
      (levels[data.nesting] ??= []).push({ name: data.name, leaves });
    }
  }
}
