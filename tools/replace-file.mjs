// Replaces a file by a copy of another without writing into the old one: copied beside and renamed.
// A running process that loaded the old file (the netlink addon, mapped into nsmgr and the forwarders
// of a local mesh) keeps its pages; copying over it in place crashes that process.
import { copyFileSync, renameSync } from 'node:fs';

export function replaceFile(src, dst) {
  const tmp = `${dst}.${process.pid}.tmp`;
  copyFileSync(src, tmp);
  renameSync(tmp, dst);
}
