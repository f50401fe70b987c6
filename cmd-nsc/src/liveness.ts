// Data-path liveness: ping the endpoint side's addresses of the connection from this namespace.
import { execFile } from 'node:child_process';
import type { Connection } from '@nsm/api';

export async function pingCheck(conn: Connection): Promise<boolean> {
  const targets = (conn.context?.ipContext?.dstIpAddrs ?? []).map((a) => a.split('/')[0]);
  if (targets.length === 0) return true;
  const results = await Promise.all(
    targets.map(
      (ip) =>
        new Promise<boolean>((resolve) =>
          execFile('ping', [ip.includes(':') ? '-6' : '-4', '-c', '1', '-W', '1', ip], (err) => resolve(!err)),
        ),
    ),
  );
  return results.every(Boolean);
}
