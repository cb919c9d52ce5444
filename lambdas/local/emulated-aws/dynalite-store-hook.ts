// Local engine, emulated AWS: the one way this code changes how dynalite 4.0.0 builds its stores.
// dynalite's server builds its store with `require('dynalite/db').create()` on each `dynalite()` call;
// the iterator fix and the table cache each wrap that function once per thread.
import { createRequire } from 'node:module';

interface DynaliteDbModule {
  create(options?: object): unknown;
  [marker: symbol]: true | undefined;
}

/**
 * From now on, every dynalite store this thread creates goes through `patch` once it is built.
 * Idempotent per `name`. Throws if dynalite no longer has the shape this relies on (an upgrade
 * must then look again rather than silently lose the patch).
 */
export function patchEveryDynaliteStore<Store>(name: string, patch: (store: Store) => void): void {
  const dbModule = createRequire(import.meta.url)('dynalite/db') as DynaliteDbModule;
  const marker = Symbol.for(`taskbound.dynalite.${name}`);
  if (dbModule[marker]) return;
  const create = dbModule.create;
  if (typeof create !== 'function') throw new Error(`dynalite/db has no create(): the ${name} patch for dynalite 4.0.0 no longer applies`);
  dbModule.create = (options?: object) => {
    const store = create(options);
    patch(store as Store);
    return store;
  };
  dbModule[marker] = true;
}
