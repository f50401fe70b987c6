// Jest global teardown: after the whole suite, nothing the tests made may be left on the machine
// (network namespaces and their /etc/netns folders, OVS, wireguard-go, VPP or dnsmasq processes, links in
// the root namespace).
const { execFileSync } = require('node:child_process');

const run = (cmd) => {
  try {
    return execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};

module.exports = async function leakCheck() {
  // On by default in make test (CI); off for partial runs, where other runs may be active.
  if (process.env.NSM_LEAK_CHECK !== '1' || (process.getuid && process.getuid() !== 0)) return;
  const left = [];
  const netns = run('ip netns list | cut -d" " -f1');
  if (netns) left.push(`network namespaces: ${netns.split('\n').join(' ')}`);
  // VPP's main thread names the process vpp_main.
  for (const p of ['ovs-vswitchd', 'ovsdb-server', 'wireguard-go', 'vpp_main', 'dnsmasq']) {
    const pids = run(`pgrep -x ${p}`);
    if (pids) left.push(`${p} running (pids ${pids.split('\n').join(' ')})`);
  }
  // The multi-cluster runtime's per-namespace resolv.conf (local/internet.ts).
  const etcNetns = run('ls /etc/netns 2>/dev/null');
  if (etcNetns) left.push(`/etc/netns entries: ${etcNetns.split('\n').join(' ')}`);
  const links = run("ip -br link | awk '$1 !~ /^(lo|eth[0-9]+|ifb[0-9]+)(@.*)?$/ {print $1}'");
  if (links) left.push(`links in the root namespace: ${links.split('\n').join(' ')}`);
  if (left.length) throw new Error(`tests left things behind:\n  ${left.join('\n  ')}`);
  process.stdout.write('leak check: no namespaces, OVS/wireguard-go/VPP/dnsmasq processes or extra links left\n');
};
