// cmd-nsc settings (components.md §5), NSM_ prefix.
import type { Schema } from '@nsm/sdk/cmd/config';
import { commonSettings as common } from '@nsm/sdk/cmd/settings';

export const schema = {
  name: common.name('nsc', 'name of this client: its path segment name and the prefix of its connection ids'),
  connectTo: common.connectTo(),
  dialTimeout: common.dialTimeout('5s'),
  requestTimeout: { kind: 'duration', env: 'NSM_REQUEST_TIMEOUT', default: '15s', description: 'time limit of one Request attempt; failed attempts are retried every 200ms' },
  maxTokenLifetime: common.maxTokenLifetime('10m'),
  labels: { kind: 'map', env: 'NSM_LABELS', default: '', description: 'labels added to every request (key:value,key:value)' },
  mechanism: { kind: 'string', env: 'NSM_MECHANISM', default: 'kernel', description: 'default mechanism for network services whose URL names none' },
  networkServices: { kind: 'list', env: 'NSM_NETWORK_SERVICES', default: '', description: 'comma-separated network service URLs: kernel://<service>[/<interface>][?label=value&...]' },
  livenessCheckInterval: { kind: 'duration', env: 'NSM_LIVENESS_CHECK_INTERVAL', default: '0', description: 'period of the data-path check (ping of the far address); 0 disables it' },
  logLevel: common.logLevel(),
} satisfies Schema;
