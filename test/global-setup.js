// Jest global setup: builds the netlink addon (shared/sdk-kernel/netlink/addon) when it is missing or
// older than its source, so that `npx jest <path>` in a fresh clone finds it as `make test` does.
// Without a C compiler the build fails with a warning only: the tests that need the addon then fail
// with the loader's message, which says how to build it; the others run.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async function buildAddon() {
  try {
    execFileSync(process.execPath, [join(__dirname, '..', 'tools', 'build-addon.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (e) {
    process.stderr.write(`global setup: the netlink addon could not be built (${String(e.message).split('\n')[0]}); tests that need it will fail\n`);
  }
};
