/** @module Ambient types for the pure-Node engines, which ship none. */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  const dynalite: (options?: object) => Server;
  export default dynalite;
}
declare module 'kinesalite' {
  import type { Server } from 'node:http';

  const kinesalite: (options?: object) => Server;
  export default kinesalite;
}
