// The settings every command shares are the shared definitions (shared/sdk/cmd/settings.ts), not
// copies that drift apart: same variable, kind and wording in every command's schema.
import type { Schema } from '@nsm/sdk/cmd/config';
import { commonSettings } from '@nsm/sdk/cmd/settings';
import { schema as webhook } from '../cmd-admission-webhook/src/config';
import { schema as forwarderOvs } from '../cmd-forwarder-ovs/src/config';
import { schema as forwarderVpp } from '../cmd-forwarder-vpp/src/config';
import { schema as nsc } from '../cmd-nsc/src/config';
import { schema as nse } from '../cmd-nse-icmp-responder/src/config';
import { schema as nsmgr } from '../cmd-nsmgr/src/config';
import { schema as registry } from '../cmd-registry-k8s/src/config';

const schemas: Record<string, Schema> = { webhook, forwarderOvs, forwarderVpp, nsc, nse, nsmgr, registry };

test.each(Object.entries(schemas))('%s: shared settings come from commonSettings', (_cmd, schema) => {
  const shared = { connectTo: commonSettings.connectTo(), dialTimeout: commonSettings.dialTimeout(''), maxTokenLifetime: commonSettings.maxTokenLifetime(''), logLevel: commonSettings.logLevel() };
  for (const [key, want] of Object.entries(shared)) {
    const s = schema[key];
    if (!s) continue;
    expect([key, s.kind, s.description]).toEqual([key, want.kind, want.description]);
    if (key !== 'logLevel') expect([key, s.env]).toEqual([key, want.env]);
  }
  expect(schema.logLevel).toBeDefined();
  if (schema.name) expect([schema.name.kind, schema.name.env]).toEqual(['string', 'NSM_NAME']);
});
