// The URL other nodes use to reach a command (the nsmgr, components.md §1; the nsmgr-proxy): the
// first tcp:// listen URL, with a host-less tcp://:port completed by the first non-loopback IPv4.
import { networkInterfaces } from 'node:os';

export function publicUrl(listenOn: string[], interfaces = networkInterfaces()): string {
  const tcp = listenOn.find((u) => u.startsWith('tcp://'));
  if (!tcp) return listenOn[0];
  const m = /^tcp:\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(tcp);
  if (!m || (m[1] !== '' && m[1] !== '0.0.0.0')) return tcp;
  const ip = Object.values(interfaces)
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  return `tcp://${ip ?? '127.0.0.1'}:${m[2]}`;
}
