// Where the DNS client puts the endpoints' DNS contexts: the pod's resolver file, and with a CoreDNS
// sidecar its Corefile. Everything an endpoint sent is checked before anything is written, so a
// malformed context leaves both files as they were. The resolver file is rewritten in place (it is a
// bind mount in a container, and in the local runtime's pods: it cannot be replaced by a rename), its
// original is kept and written back exactly once no connection has a DNS context any more.
import { mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { dirname, join, basename } from 'node:path';
import type { DNSConfig } from '@nsm/api';
import { failedPrecondition, invalidArgument } from '../../core/errors';
import { checkDnsConfigs } from '../../input';
import { log } from '../../log';
import { renderCorefile } from './corefile';
import { originalOf, parseResolvConf, renderResolvConf } from './resolvconf';

/**
 * resolvconf: the connections' servers answer first in the resolver file (no sidecar).
 * corefile: upstream's way, the CoreDNS sidecar routes each endpoint's domains to its servers; the
 * resolver file asks the sidecar (127.0.0.1) first.
 */
export type DnsMode = 'resolvconf' | 'corefile';

export interface DnsFilesOptions {
  mode: DnsMode;
  resolvConfPath: string;
  corefilePath: string;
  /** Who writes (the client's name), said in the files' header comment. */
  writer: string;
}

/** The local resolver the sidecar listens on. */
export const SIDECAR_ADDRESS = '127.0.0.1';
/** More than any resolver file; what is bigger is not one. */
const MAX_FILE_BYTES = 64 * 1024;

// A server that is this host itself would make the sidecar ask itself, or the resolver ask nothing.
const notServers = new BlockList();
notServers.addSubnet('127.0.0.0', 8, 'ipv4');
notServers.addSubnet('0.0.0.0', 8, 'ipv4');
notServers.addSubnet('224.0.0.0', 4, 'ipv4');
notServers.addAddress('255.255.255.255', 'ipv4');
notServers.addAddress('::', 'ipv6');
notServers.addAddress('::1', 'ipv6');
notServers.addSubnet('ff00::', 8, 'ipv6');
notServers.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/**
 * Refuses what may not go into a resolver file: anything the input schema refuses, a config with
 * search domains but no server to ask for them, and servers that are loopback, unspecified or
 * multicast. `field` is the list's path in error messages.
 */
export function checkResolverConfigs(field: string, configs: DNSConfig[]): void {
  checkDnsConfigs(field, configs);
  configs.forEach((c, i) => {
    if (c.dnsServerIps.length === 0 && c.searchDomains.length > 0) throw invalidArgument(`${field}[${i}].dns_server_ips: empty, but search_domains name domains to ask them for`);
    c.dnsServerIps.forEach((ip, j) => {
      if (notServers.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4')) throw invalidArgument(`${field}[${i}].dns_server_ips[${j}]: "${ip}" is not an address a DNS server can have here (loopback, unspecified or multicast)`);
    });
  });
}

const same = (a: DNSConfig[], b: DNSConfig[]) => JSON.stringify(a) === JSON.stringify(b);

export class DnsFiles {
  private readonly byConnection = new Map<string, DNSConfig[]>();
  /** The resolver file before our first write (null: there was none); undefined while untouched. */
  private original: string | null | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly writer: string;

  constructor(readonly opts: DnsFilesOptions) {
    // A name goes into a comment line of a byte-exact (latin1) file: printable ASCII only.
    this.writer = opts.writer.replace(/[^\x20-\x7e]/g, '?');
  }

  /**
   * At start: a resolver file that a client before this one rewrote (and did not restore: it was
   * killed) gets its original back; with the sidecar, a Corefile that forwards everything to the
   * original resolvers, so the sidecar can start and changes nothing yet.
   */
  start(): Promise<void> {
    return this.serialized(async () => {
      const current = this.read();
      const earlier = current === null ? undefined : originalOf(current);
      if (earlier !== undefined) {
        this.original = earlier;
        log.info({ file: this.opts.resolvConfPath }, 'DNS: restoring the resolver file a previous client left rewritten');
      }
      this.write();
    });
  }

  /** The DNS configs a connection's reply carries (none: the connection has no DNS part). Refuses, writing nothing, what may not be written. */
  set(id: string, configs: DNSConfig[], field = 'connection.context.dns_context.configs'): Promise<void> {
    checkResolverConfigs(field, configs);
    return this.serialized(async () => {
      const had = this.byConnection.get(id) ?? [];
      if (same(had, configs)) return;
      if (configs.length === 0) this.byConnection.delete(id);
      else this.byConnection.set(id, structuredClone(configs));
      this.write();
    });
  }

  /** The connection closed: its configs go; with the last one the resolver file is as it was. */
  remove(id: string): Promise<void> {
    return this.serialized(async () => {
      if (!this.byConnection.delete(id)) return;
      this.write();
    });
  }

  /** At exit: every connection's configs go. */
  stop(): Promise<void> {
    return this.serialized(async () => {
      this.byConnection.clear();
      this.write();
    });
  }

  private serialized(fn: () => Promise<void>): Promise<void> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Brings both files to what the current configs want. */
  private write(): void {
    const configs = [...this.byConnection.values()].flat();
    const { mode, resolvConfPath } = this.opts;
    if (configs.length === 0) {
      if (this.original !== undefined) {
        if (this.original === null) unlinkSync(resolvConfPath);
        else writeInPlace(resolvConfPath, this.original);
        log.info({ file: resolvConfPath }, 'DNS: resolver file restored');
        this.original = undefined;
      }
      if (mode === 'corefile') this.writeCorefile([]);
      return;
    }
    if (this.original === undefined) this.original = this.read();
    const servers = mode === 'corefile' ? [SIDECAR_ADDRESS] : configs.flatMap((c) => c.dnsServerIps);
    const domains = configs.flatMap((c) => c.searchDomains);
    if (mode === 'corefile') this.writeCorefile(configs);
    writeInPlace(resolvConfPath, renderResolvConf(this.original, servers, domains, this.writer));
    log.info({ file: resolvConfPath, mode, servers, domains }, 'DNS: resolver file written');
  }

  private writeCorefile(configs: DNSConfig[]): void {
    const originals = parseResolvConf(this.original ?? this.read() ?? '').nameservers.filter((s) => isIP(s) && !notServers.check(s, isIP(s) === 6 ? 'ipv6' : 'ipv4'));
    const path = this.opts.corefilePath;
    mkdirSync(dirname(path), { recursive: true });
    // The sidecar re-reads the file when it changes: it must never see half of one.
    const tmp = join(dirname(path), `.${basename(path)}.tmp`);
    writeFileSync(tmp, renderCorefile(configs, originals, this.writer));
    renameSync(tmp, path);
  }

  /** The resolver file now (null: there is none), bounded. */
  private read(): string | null {
    const path = this.opts.resolvConfPath;
    let size: number;
    try {
      size = statSync(path).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    if (size > MAX_FILE_BYTES) throw failedPrecondition(`${path} has ${size} bytes: not a resolver file (at most ${MAX_FILE_BYTES})`);
    return readFileSync(path, 'latin1');
  }
}

/** Same file, new content: a bind-mounted file keeps its mount (a rename onto it would fail with EBUSY). */
function writeInPlace(path: string, text: string): void {
  writeFileSync(path, text, { flag: 'w', encoding: 'latin1' });
}
