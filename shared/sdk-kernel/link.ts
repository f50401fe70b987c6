// Single-link queries and changes. They run over rtnetlink (./netlink/link.ts: one round trip on a
// socket kept per namespace, no process); this module keeps the names and the LinkInfo shape the
// rest of the tree was written against. Deletion is idempotent: a link that is not there is already
// deleted.
export { listLinks, getLink, linkExists, getMac, setMac, setLinkUp, deleteLink, deleteLinks } from './netlink/link';

export interface LinkInfo {
  name: string;
  index: number;
  mac: string;
  mtu: number;
  /** Administratively up. */
  up: boolean;
  /** `veth`, `vxlan`, `tun`, ... (undefined for plain devices such as lo). */
  kind?: string;
  alias?: string;
  /** For a veth whose peer is in another namespace: the peer's ifindex there. */
  peerIndex?: number;
  /** For a veth whose peer is in the same namespace: the peer's name. */
  peerName?: string;
}
