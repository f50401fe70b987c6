// `<cmd> health-probe <url> [service]`: the readiness and liveness probe every image carries, what
// upstream's `grpc-health-probe -spiffe` is to its images. Health is served on the component's
// mutual-TLS server, so the probe takes the pod's own SVID from SPIFFE_ENDPOINT_SOCKET (an exec probe
// runs with the container's environment) and asks grpc.health.v1.Health/Check. Exit 0 = SERVING.
import { checkHealth } from '../grpc/health';
import { SPIFFE_ENDPOINT_SOCKET, WorkloadApiClient } from '../spiffe/client';

export const HEALTH_PROBE = 'health-probe';

export async function runHealthProbe(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [url, service = ''] = args;
  if (!url || args.length > 2) {
    process.stderr.write(`usage: ${HEALTH_PROBE} <url> [service]   (identity from ${SPIFFE_ENDPOINT_SOCKET})\n`);
    return 2;
  }
  let source: WorkloadApiClient | undefined;
  const keepAlive = setInterval(() => undefined, 1000);
  try {
    source = new WorkloadApiClient({ address: env[SPIFFE_ENDPOINT_SOCKET] });
    await source.ready(5000);
    const status = await checkHealth(url, source, { service, timeoutMs: 3000 });
    process.stdout.write(`${url}: ${status}\n`);
    return status === 'SERVING' ? 0 : 1;
  } catch (err) {
    process.stderr.write(`${url}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    clearInterval(keepAlive);
    source?.close();
  }
}
