// Local engine, emulated AWS: the type of the dynalite package (it ships none), as far as the embedded store uses it.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** LevelDB directory; in memory when absent. */
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
  }

  /** An HTTP server speaking the DynamoDB API; `close` also closes its LevelDB. */
  export default function dynalite(options?: DynaliteOptions): Server;
}
