// Per-namespace network settings (/proc/sys/net/...) read and written from inside a namespace by
// the addon, without `nsenter ... tee`. A setting is named by its path segments, not a dotted key:
// interface names may contain dots (eth0.100).
import { Code, StatusError } from '@nsm/sdk/core/errors';
import { describeNetns, NetnsRef } from '../netns';
import { addon } from './addon';
import { fromSystemError } from './errors';

const SEGMENT = /^[A-Za-z0-9_.@-]{1,64}$/;
const VALUE = /^[0-9A-Za-z :._-]{0,256}$/;

export function sysctlPath(segments: readonly string[]): string {
  if (segments.length < 2 || segments.length > 6 || segments.some((s) => !SEGMENT.test(s) || s === '.' || s === '..')) {
    throw new StatusError(Code.INVALID_ARGUMENT, `invalid sysctl net.${segments.join('.')}`);
  }
  return `/proc/sys/net/${segments.join('/')}`;
}

export async function readSysctl(ns: NetnsRef, segments: readonly string[]): Promise<string> {
  const file = sysctlPath(segments);
  try {
    return (await addon().sysctl(ns?.path ?? null, file, null)).trim();
  } catch (e) {
    throw fromSystemError(e, `read ${file} in netns ${describeNetns(ns)}`);
  }
}

export async function writeSysctl(ns: NetnsRef, segments: readonly string[], value: string): Promise<void> {
  const file = sysctlPath(segments);
  if (!VALUE.test(value)) throw new StatusError(Code.INVALID_ARGUMENT, `invalid value for ${file}`);
  try {
    await addon().sysctl(ns?.path ?? null, file, value);
  } catch (e) {
    throw fromSystemError(e, `write ${file} in netns ${describeNetns(ns)}`);
  }
}
