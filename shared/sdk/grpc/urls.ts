// NSM URLs (unix:///path, tcp://host:port, tcp://:port, bare host:port) to gRPC targets and bind addresses.
import { invalidArgument } from '../core/errors';

export interface ParsedUrl {
  scheme: 'unix' | 'tcp';
  /** Socket path for unix; host:port for tcp. */
  address: string;
}

export function parseUrl(url: string): ParsedUrl {
  if (url.startsWith('unix://')) {
    const path = url.slice('unix://'.length);
    if (!path.startsWith('/')) throw invalidArgument(`url "${url}": a unix URL needs an absolute path (unix:///path)`);
    return { scheme: 'unix', address: path };
  }
  if (url.startsWith('unix:')) return { scheme: 'unix', address: url.slice('unix:'.length) };
  const hostPort = url.startsWith('tcp://') ? url.slice('tcp://'.length) : url;
  const m = /^(\[[^\]]*\]|[^:/]*):(\d+)$/.exec(hostPort);
  if (!m) throw invalidArgument(`url "${url}" is neither unix:///path nor tcp://host:port`);
  return { scheme: 'tcp', address: hostPort };
}

/** The string grpc-js dials. */
export function dialTarget(url: string): string {
  const p = parseUrl(url);
  if (p.scheme === 'unix') return `unix://${p.address}`;
  const [host, port] = splitHostPort(p.address);
  return `${host || '127.0.0.1'}:${port}`;
}

/** The string grpc-js binds; tcp://:port binds every interface. */
export function bindTarget(url: string): string {
  const p = parseUrl(url);
  if (p.scheme === 'unix') return `unix://${p.address}`;
  const [host, port] = splitHostPort(p.address);
  return `${host || '0.0.0.0'}:${port}`;
}

export function splitHostPort(hostPort: string): [string, string] {
  const i = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, i), hostPort.slice(i + 1)];
}

export const isUnixUrl = (url: string) => url.startsWith('unix:') || url.startsWith('inode:');
