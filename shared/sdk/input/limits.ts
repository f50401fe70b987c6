// How much a caller may send. Every number here bounds what one message can make a component hold
// or do before any element looks at it; exceeding one is refused at once with RESOURCE_EXHAUSTED
// naming the field (a malformed value is INVALID_ARGUMENT). They are constants, not settings: they sit
// well above what NSM itself sends (upstream's largest paths have 6 segments, its forwarders offer 5
// mechanisms, its labels are a handful), so nobody upstream of us has a reason to tune them, and a
// limit that differs per node would make one hop refuse what the previous one accepted. The README's
// "Input limits" table lists them; keep the two in step.

/** gRPC max receive message length on every server and client channel (grpc-js and Go's default). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Fields in one message, counted through its nested messages before it is decoded (wire.ts). */
export const MAX_WIRE_FIELDS = 32_768;

export const Limits = {
  // Connection and Request
  mechanismPreferences: 16,
  mechanismParameters: 32,
  parameterKeyBytes: 64,
  parameterValueBytes: 1024,
  /** IPSEC keys are base64 DER certificates. */
  certificateParameterBytes: 8192,
  mechanismTypeBytes: 32,
  labels: 64,
  labelKeyBytes: 317,
  labelValueBytes: 512,
  pathSegments: 32,
  nameBytes: 253,
  idBytes: 256,
  tokenBytes: 8192,
  metrics: 32,
  metricKeyBytes: 128,
  metricValueBytes: 256,
  urlBytes: 512,
  // ConnectionContext
  addresses: 32,
  routes: 256,
  prefixes: 256,
  neighbors: 64,
  extraPrefixRequests: 16,
  policies: 64,
  dnsConfigs: 16,
  dnsServers: 8,
  searchDomains: 32,
  extraContext: 64,
  extraContextKeyBytes: 256,
  extraContextValueBytes: 4096,
  // Registry records and queries
  serviceNames: 32,
  serviceLabelSets: 32,
  matches: 32,
  matchRoutes: 32,
  pathIds: 32,
  spiffeIdBytes: 2048,
  // MonitorScopeSelector
  selectorServices: 64,
} as const;

/** Latest timestamp accepted (9999-12-31T23:59:59Z, the end of RFC 3339). */
export const MAX_TIMESTAMP_SECONDS = 253_402_300_799;
