// validate (registry server, first element): a malformed record never reaches the rest of the chain.
// Register checks the whole record; Unregister needs only a name; Find accepts any template.
import { invalidArgument } from '../../core/errors';
import type { RegistryElement } from '../../core/registry';
import type { RecordKind } from '../../core/recordkinds';

export function validate<T extends { name: string }>(kind: RecordKind<T>): RegistryElement<T> {
  return {
    async register(ctx, item, next) {
      kind.validate(item);
      return next.register(ctx, item);
    },
    async find(ctx, query, sink, next) {
      if (!query.item) throw invalidArgument(`query.${kind.field} is required`);
      return next.find(ctx, query, sink);
    },
    async unregister(ctx, item, next) {
      if (!item) throw invalidArgument(`${kind.field} is required`);
      if (!item.name) throw invalidArgument(`${kind.field}.name must not be empty`);
      return next.unregister(ctx, item);
    },
  };
}
