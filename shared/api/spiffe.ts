// The SPIFFE Workload API (no proto package: /SpiffeWorkloadAPI/<Method>), kept apart from the NSM
// API exports because only the identity code talks it.
export {
  SpiffeWorkloadAPIService,
  SpiffeWorkloadAPIClient,
  X509SVIDRequest,
  X509SVIDResponse,
  X509SVID,
  X509BundlesRequest,
  X509BundlesResponse,
  JWTSVIDRequest,
  JWTSVIDResponse,
  JWTBundlesRequest,
  JWTBundlesResponse,
  ValidateJWTSVIDRequest,
  ValidateJWTSVIDResponse,
} from './gen/workload';
export type { SpiffeWorkloadAPIServer } from './gen/workload';

/** Every Workload API call must carry this header with the value "true"; agents refuse calls without it. */
export const WorkloadApiHeader = 'workload.spiffe.io';
