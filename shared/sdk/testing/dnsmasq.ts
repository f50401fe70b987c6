// A real DNS server for tests of interdomain discovery: dnsmasq (Debian dnsmasq-base) serving, per
// domain, the SRV and address records of its registry and nsmgr-proxy as a cluster's DNS would
// (upstream: CoreDNS with the other clusters' zones). It has no upstream server and answers every
// other name NXDOMAIN (--local=/#/), as the internet would for a domain nobody serves.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServiceRecord {
  /** e.g. registry.nsm-system */
  service: string;
  ip: string;
  port: number;
}

export interface DnsmasqOptions {
  /** Address to listen on (default 127.0.0.1). */
  ip?: string;
  /** Network namespace to run in (ip netns exec). */
  netns?: string;
  domains: Record<string, ServiceRecord[]>;
}

export interface Dnsmasq {
  /** ip:port, as NSM_DNS_SERVERS takes it. */
  server: string;
  stop(): Promise<void>;
}

export function dnsmasqUnavailable(): string | undefined {
  try {
    execFileSync('sh', ['-c', 'command -v dnsmasq'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'dnsmasq missing (apt-get install dnsmasq-base; make host-deps)';
  }
}

/** A port free for TCP now (dnsmasq binds UDP and TCP on it). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function dnsmasqArgs(ip: string, port: number, pidFile: string, domains: Record<string, ServiceRecord[]>): string[] {
  const args = ['--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--user=root', `--pid-file=${pidFile}`];
  args.push('--log-facility=-', '--bind-interfaces', `--listen-address=${ip}`, `--port=${port}`, '--local=/#/');
  for (const [domain, records] of Object.entries(domains)) {
    args.push(`--local=/${domain}/`);
    for (const r of records) {
      const host = `${r.service}.${domain}`;
      args.push(`--srv-host=_${r.service}._tcp.${domain},${host},${r.port}`, `--host-record=${host},${r.ip}`);
    }
  }
  return args;
}

export async function startDnsmasq(opts: DnsmasqOptions): Promise<Dnsmasq> {
  const ip = opts.ip ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'dnsmasq-'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const args = dnsmasqArgs(ip, port, join(dir, 'pid'), opts.domains);
    const argv = opts.netns ? ['ip', 'netns', 'exec', opts.netns, 'dnsmasq', ...args] : ['dnsmasq', ...args];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const ok = await started(child);
    if (ok === true) {
      return {
        server: `${ip}:${port}`,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            const gone = new Promise((r) => child.once('exit', r));
            child.kill('SIGTERM');
            await gone;
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (attempt >= 3) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`dnsmasq did not start: ${ok}`);
    }
  }
}

/** Resolves true once dnsmasq logs that it started, or its output when it exits. */
function started(child: ChildProcess): Promise<true | string> {
  return new Promise((resolve) => {
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      if (/started, version/.test(out)) resolve(true);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => resolve(out || 'exited'));
  });
}
