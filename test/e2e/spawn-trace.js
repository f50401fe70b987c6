// Preloaded into a process under test (NODE_OPTIONS="--require <this file>", NSM_SPAWN_TRACE=<file>):
// appends one JSON line per child process the process starts, whatever part of it starts it (every
// asynchronous spawn, execFile and fork goes through ChildProcess.prototype.spawn; the synchronous
// ones through spawnSync). A test reads the file before and after what it measures.
const { appendFileSync } = require('node:fs');
const cp = require('node:child_process');

const file = process.env.NSM_SPAWN_TRACE;
if (file) {
  const note = (how, argv) => appendFileSync(file, `${JSON.stringify({ t: Date.now(), pid: process.pid, how, argv })}\n`);
  const spawn = cp.ChildProcess.prototype.spawn;
  cp.ChildProcess.prototype.spawn = function (options) {
    note('spawn', options && options.args);
    return spawn.call(this, options);
  };
  for (const name of ['spawnSync', 'execSync', 'execFileSync']) {
    const orig = cp[name];
    cp[name] = function (...args) {
      note(name, args.slice(0, 2));
      return orig.apply(this, args);
    };
  }
}
