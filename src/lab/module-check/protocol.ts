/** @module The messages between `racesafe check` and its Lambda environment processes. */

/** An error as it crosses the process boundary. */
export interface EnvironmentError {
  readonly name: string;
  readonly message: string;
}

/** Parent → environment. */
export type EnvironmentMessage = {
  readonly type: 'invoke';
  readonly id: number;
  readonly event: unknown;
  readonly requestId: string;
};

/** Environment → parent. */
export type HostMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'load-error'; readonly reason: 'import' | 'export'; readonly error: EnvironmentError }
  | { readonly type: 'result'; readonly id: number; readonly error?: EnvironmentError };
