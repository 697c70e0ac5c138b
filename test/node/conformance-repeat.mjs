// conformance-repeat.mjs: runs ONE scenario of the MCP conformance suite
// (@modelcontextprotocol/conformance) many times in one Node process, for the
// gateway's soak test (make soak-conformance). Each iteration is the suite's
// own CLI, `conformance server --url URL --scenario NAME`, evaluated afresh:
// the CLI is a single bundled module that parses process.argv when it is
// imported, so importing it again under a new query string runs it again with
// its module state new, while its dependencies (the MCP SDK, undici, zod) stay
// loaded. That saves the second of CPU a new Node process spends loading them,
// which would otherwise dominate a soak of thousands of short scenarios on two
// cores. The suite's exit (process.exit) is caught and ends the iteration.
//
// Usage (Node 22, like the suite):
//   node conformance-repeat.mjs --url URL --scenario NAME --iterations N \
//     [--timeout MS] [--spec-version V] [--deadline-ms MS] [--out DIR]
//
// --timeout is the suite's per-scenario timeout; --spec-version its wire
// version (e.g. 2026-07-28); --deadline-ms stops starting iterations after
// that long. Prints one JSON line per iteration on stdout:
//   {"i":0,"ms":123,"scenarioMs":95,"exit":0,"output":"..."}
// ms is the whole iteration, scenarioMs the part after the CLI's module was
// evaluated (the scenario's own exchange with the server).
// (output only when the exit is not 0 or the scenario was skipped, then with
// "skipped":true)
// and exits 0 once all ran (the caller judges the results).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    scenario: { type: 'string' },
    iterations: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '30000' },
    'spec-version': { type: 'string' },
    'deadline-ms': { type: 'string' },
    out: { type: 'string' },
  },
});
if (!opts.url || !opts.scenario) {
  process.stderr.write('usage: conformance-repeat.mjs --url URL --scenario NAME --iterations N\n');
  process.exit(2);
}

const require = createRequire(import.meta.url);
const pkg = require.resolve('@modelcontextprotocol/conformance/package.json');
const cli = pathToFileURL(join(dirname(pkg), 'dist', 'index.js')).href;

const realExit = process.exit;
const realLog = console.log;
const realError = console.error;
const realWarn = console.warn;

// Warm-up, not measured: `conformance list` loads every dependency of the
// bundle, so that the first measured iteration costs what the others do.
{
  console.log = () => {};
  process.argv = [process.argv[0], 'conformance', 'list', '--server'];
  await import(`${cli}?warmup`);
  console.log = realLog;
}

const iterations = Number(opts.iterations);
const deadline = opts['deadline-ms'] ? Date.now() + Number(opts['deadline-ms']) : Infinity;
const outRoot = opts.out ?? mkdtempSync(join(tmpdir(), 'conformance-repeat-'));

for (let i = 0; i < iterations && Date.now() < deadline; i++) {
  const out = join(outRoot, String(i));
  const argv = ['server', '--url', opts.url, '--scenario', opts.scenario, '--timeout', opts.timeout, '-o', out];
  if (opts['spec-version']) argv.push('--spec-version', opts['spec-version']);
  let buf = '';
  const capture = (...a) => { buf += a.map(String).join(' ') + '\n'; };
  let done;
  const exited = new Promise((resolve) => { done = resolve; });
  process.exit = (code) => { done(code ?? 0); };
  console.log = capture;
  console.error = capture;
  console.warn = capture;
  process.argv = [process.argv[0], 'conformance', ...argv];
  const start = performance.now();
  // The import resolves once the module is evaluated: the CLI's action
  // (the scenario) goes on asynchronously until it calls process.exit.
  let evaluated = start;
  try {
    await import(`${cli}?iteration=${i}`);
    evaluated = performance.now();
  } catch (e) {
    capture('import failed:', e?.stack ?? e);
    done(3);
  }
  const code = await exited;
  const end = performance.now();
  const ms = Math.round(end - start);
  const scenarioMs = Math.round(end - evaluated);
  process.exit = realExit;
  console.log = realLog;
  console.error = realError;
  console.warn = realWarn;
  const line = { i, ms, scenarioMs, exit: code };
  // A scenario not applicable at --spec-version exits 0 without running.
  if (/^SKIPPED:/m.test(buf)) line.skipped = true;
  if (code !== 0 || line.skipped) line.output = buf;
  process.stdout.write(JSON.stringify(line) + '\n');
  if (code === 0 && !opts.out) rmSync(out, { recursive: true, force: true });
}
if (!opts.out) rmSync(outRoot, { recursive: true, force: true });
realExit(0);
