// Data-path liveness: ping the endpoint side's addresses of the connection from this namespace. Used
// while healing (is restoring the same path worth it?) and, when configured, periodically.
import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import type { Connection } from '@nsm/api';

/**
 * A check that waits `timeoutMs` for each reply: true when every address answered, false when one
 * did not, undefined when it cannot tell (no address to ping, or no ping to run).
 */
export function pingCheck(timeoutMs: number, ping = 'ping'): (conn: Connection) => Promise<boolean | undefined> {
  const wait = String(Math.max(timeoutMs, 1) / 1000);
  return async (conn) => {
    const targets = (conn.context?.ipContext?.dstIpAddrs ?? []).map((a) => a.split('/')[0]);
    // The addresses came from the endpoint (checked by validateclient); still, only an IP address
    // reaches ping's argument vector, never something it could take for an option.
    if (targets.length === 0 || !targets.every((ip) => isIP(ip) !== 0)) return undefined;
    const results = await Promise.all(
      targets.map(
        (ip) =>
          new Promise<boolean | undefined>((resolve) =>
            execFile(ping, [ip.includes(':') ? '-6' : '-4', '-n', '-q', '-c', '1', '-W', wait, ip], (err) =>
              resolve(!err ? true : typeof err.code === 'string' ? undefined : false),
            ),
          ),
      ),
    );
    return results.includes(false) ? false : results.includes(undefined) ? undefined : true;
  };
}
