// What the WireGuard device pool saves a Request: a wireguard-go device made ready for a connection
// by starting it (a process, its UAPI socket, key, name, up), against one taken from a pool started
// ahead (sdk-wireguard/pool.ts: key, name, MTU and up over the UAPI and netlink). Run by
// bench/remote.ts inside a scratch namespace (`ip netns exec`), since the devices are made in the
// namespace of the process; prints its figures as one JSON line.
import { generateKeyPair, WgDevice, WgPool } from '@nsm/sdk-wireguard';
import { median, runMain } from './stats';

const N = Number(process.env.BENCH_WG_DEVICES ?? 10);

async function main() {
  let port = 52800;
  const ports = { take: () => port++, give: () => undefined };
  const started: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const dev = await WgDevice.start({ ifName: `bwgs${i}`, privateKey: generateKeyPair().privateKey, listenPort: ports.take(), mtu: 1420 });
    started.push(performance.now() - t0);
    await dev.stop();
  }
  const pool = new WgPool({ size: 2, prefix: 'bwgp', ports });
  await pool.fill();
  const pooled: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const dev = await pool.acquire();
    await dev.configure({ privateKey: generateKeyPair().privateKey, mtu: 1420, name: `bwgd${i}` });
    pooled.push(performance.now() - t0);
    await pool.release(dev);
  }
  const spawnsAfterFill = pool.counts.startedOnDemand;
  await pool.close();
  process.stdout.write(`${JSON.stringify({ startMs: median(started), pooledMs: median(pooled), spawnsAfterFill })}\n`);
}

runMain(main);
