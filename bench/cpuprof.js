// Preloaded by bench/profile.ts (NODE_OPTIONS="--require bench/cpuprof.js", NSM_CPU_PROFILE=<file>;
// Node refuses --cpu-prof in NODE_OPTIONS): V8's sampling profiler, started by the first SIGUSR2 and
// written by the second (to <file>.<pid>.cpuprofile), so that start-up is not in the figures.
const { writeFileSync } = require('node:fs');
const inspector = require('node:inspector');

const file = process.env.NSM_CPU_PROFILE;
if (file) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.NSM_CPU_PROFILE_INTERVAL_US ?? 500) });
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.start');
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(`${file}.${process.pid}.cpuprofile`, JSON.stringify(res.profile));
    });
  });
}
