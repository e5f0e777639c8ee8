/** @module A local model of Lambda's routing of invocations to execution environments: shared, or PER_TENANT (tenant isolation mode). */
import type { Context } from 'aws-lambda';
import { invalidInput, invalidOption, rejectUnknownOptions } from '../errors.js';

/** How the function was created: `shared` (no tenancy config) or `PER_TENANT` (`TenancyConfig.TenantIsolationMode`). */
export type TenancyMode = 'shared' | 'PER_TENANT';

export interface LambdaPoolOptions<M, E, R> {
  readonly mode: TenancyMode;
  /**
   * The module's initialisation: runs once per execution environment (a cold start), and what it returns is that
   * environment's module scope, kept across the invocations the environment serves, as in Lambda.
   */
  readonly init: () => M | Promise<M>;
  /** The handler, given its environment's module scope. */
  readonly handler: (module: M, event: E, context: Context) => R | Promise<R>;
  /**
   * How many environments may exist at once (the function's concurrency). When a new one is needed and the pool is
   * full, the least recently used idle environment is reclaimed; with none idle the invocation is throttled.
   * @default 1000 (the default account concurrency)
   */
  readonly maxEnvironments?: number;
  /** Remaining time each context reports, in ms. @default 30000 */
  readonly timeoutMs?: number;
}

const lambdaPoolOptionNames: readonly (keyof LambdaPoolOptions<never, never, never>)[] = [
  'mode',
  'init',
  'handler',
  'maxEnvironments',
  'timeoutMs',
];

/** What the pool counted. */
export interface LambdaPoolStats {
  readonly invocations: number;
  readonly coldStarts: number;
  /** Invocations refused because every environment was busy and the pool was full. */
  readonly throttles: number;
  /** Environments alive now. */
  readonly environments: number;
  /** Distinct environments that have served each tenant (its data passed through their memory). */
  readonly environmentsPerTenant: ReadonlyMap<string, number>;
  /** Cold starts per tenant: invocations of that tenant that had to start an environment. */
  readonly coldStartsPerTenant: ReadonlyMap<string, number>;
  /** Per live environment, the tenants it has served: more than one only in shared mode. */
  readonly tenantsPerEnvironment: readonly (readonly string[])[];
}

export interface LambdaPool<E, R> {
  /**
   * Invokes the function. With `PER_TENANT` a tenant id is required (as `X-Amz-Tenant-Id` is) and becomes
   * `context.tenantId`; in shared mode the tenant id, if given, is only counted: the handler never sees it.
   */
  invoke(event: E, options?: { readonly tenantId?: string }): Promise<R>;
  stats(): LambdaPoolStats;
}

interface Environment<M> {
  readonly id: number;
  readonly tenantId: string | undefined;
  readonly module: Promise<M>;
  busy: boolean;
  lastUsed: number;
  readonly served: Set<string>;
}

/**
 * A pool of execution environments, each with its own module instance, routing invocations the way Lambda does:
 * in shared mode any warm idle environment serves any invocation; in `PER_TENANT` mode an environment is dedicated
 * to the tenant of its first invocation and never serves another, so every new tenant (and every burst beyond a
 * tenant's warm environments) is a cold start. A model for local tests and the lab, not a measurement of Lambda:
 * it has no idle timeout, no placement and no init duration; it counts routing decisions.
 *
 * @example
 * ```ts
 * import { lambdaPool } from 'racesafe/testing';
 *
 * const pool = lambdaPool({
 *   mode: 'PER_TENANT',
 *   init: () => ({ cache: new Map<string, string>() }), // module scope, one per environment
 *   handler: (module, event: { key: string }, context) => module.cache.get(event.key) ?? String(context.tenantId),
 * });
 * await pool.invoke({ key: 'profile' }, { tenantId: 'blue' });
 * console.log(pool.stats().coldStarts); // 1
 * ```
 */
export function lambdaPool<M, E, R>(options: LambdaPoolOptions<M, E, R>): LambdaPool<E, R> {
  rejectUnknownOptions(options, lambdaPoolOptionNames, 'lambdaPool');
  if (options.mode !== 'shared' && options.mode !== 'PER_TENANT') {
    throw invalidOption('lambdaPool.mode', "must be 'shared' or 'PER_TENANT'");
  }
  if (typeof options.init !== 'function') throw invalidOption('lambdaPool.init', 'must be a function');
  if (typeof options.handler !== 'function') throw invalidOption('lambdaPool.handler', 'must be a function');
  const maxEnvironments = options.maxEnvironments ?? 1000;
  if (!Number.isSafeInteger(maxEnvironments) || maxEnvironments < 1) {
    throw invalidOption('lambdaPool.maxEnvironments', 'must be a whole number >= 1');
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  const environments: Environment<M>[] = [];
  const environmentsOfTenant = new Map<string, Set<number>>();
  const coldStartsPerTenant = new Map<string, number>();
  let clock = 0;
  let nextId = 0;
  let invocations = 0;
  let coldStarts = 0;
  let throttles = 0;
  const bump = (map: Map<string, number>, tenant: string | undefined) => {
    if (tenant !== undefined) map.set(tenant, (map.get(tenant) ?? 0) + 1);
  };

  /** A warm idle environment for this invocation, most recently used first (Lambda reuses warm environments). */
  function warm(tenantId: string | undefined): Environment<M> | undefined {
    let best: Environment<M> | undefined;
    for (const environment of environments) {
      if (environment.busy) continue;
      if (options.mode === 'PER_TENANT' && environment.tenantId !== tenantId) continue;
      if (best === undefined || environment.lastUsed > best.lastUsed) best = environment;
    }
    return best;
  }

  function coldStart(tenantId: string | undefined): Environment<M> | undefined {
    if (environments.length >= maxEnvironments) {
      const idle = environments.filter((environment) => !environment.busy);
      const oldest = idle.sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (oldest === undefined) return undefined;
      environments.splice(environments.indexOf(oldest), 1); // reclaimed: its module scope is gone
    }
    coldStarts += 1;
    bump(coldStartsPerTenant, tenantId);
    const dedicated = options.mode === 'PER_TENANT' ? tenantId : undefined;
    const environment: Environment<M> = {
      id: nextId++,
      tenantId: dedicated,
      module: Promise.resolve().then(options.init),
      busy: false,
      lastUsed: clock,
      served: new Set(),
    };
    environments.push(environment);
    return environment;
  }

  return {
    async invoke(event, invokeOptions = {}) {
      rejectUnknownOptions(invokeOptions, ['tenantId'], 'invoke');
      const tenantId = invokeOptions.tenantId;
      if (options.mode === 'PER_TENANT' && (typeof tenantId !== 'string' || tenantId === '')) {
        // Lambda refuses to invoke a PER_TENANT function without a tenant id.
        throw invalidInput('tenantId', 'a PER_TENANT function is invoked with a tenant id (X-Amz-Tenant-Id)');
      }
      invocations += 1;
      clock += 1;
      const environment = warm(tenantId) ?? coldStart(tenantId);
      if (environment === undefined) {
        throttles += 1;
        throw Object.assign(new Error('Rate Exceeded: every execution environment is busy'), {
          name: 'TooManyRequestsException',
        });
      }
      environment.busy = true;
      environment.lastUsed = clock;
      if (tenantId !== undefined) {
        environment.served.add(tenantId);
        const seen = environmentsOfTenant.get(tenantId) ?? new Set<number>();
        seen.add(environment.id);
        environmentsOfTenant.set(tenantId, seen);
      }
      const context = {
        awsRequestId: `invocation-${invocations}`,
        functionName: 'model',
        getRemainingTimeInMillis: () => timeoutMs,
        ...(options.mode === 'PER_TENANT' ? { tenantId } : {}),
      } as Context;
      try {
        return await options.handler(await environment.module, event, context);
      } finally {
        environment.busy = false;
      }
    },
    stats() {
      return {
        invocations,
        coldStarts,
        throttles,
        environments: environments.length,
        environmentsPerTenant: new Map([...environmentsOfTenant].map(([tenant, ids]) => [tenant, ids.size])),
        coldStartsPerTenant: new Map(coldStartsPerTenant),
        tenantsPerEnvironment: environments.map((environment) => [...environment.served]),
      };
    },
  };
}

/** A tenant drawn with Zipf-like skew: tenant `i` (from 0) with weight `1 / (i + 1)^exponent`. */
export function skewedTenant(random: () => number, tenants: number, exponent = 1.1): number {
  let total = 0;
  for (let i = 0; i < tenants; i++) total += 1 / (i + 1) ** exponent;
  let draw = random() * total;
  for (let i = 0; i < tenants; i++) {
    draw -= 1 / (i + 1) ** exponent;
    if (draw < 0) return i;
  }
  return tenants - 1;
}

export interface ColdStartLoadOptions {
  readonly tenants: number;
  /** Invocations in all. @default 1000 */
  readonly invocations?: number;
  /** Invocations in flight at once (arriving together). @default 4 */
  readonly concurrency?: number;
  /** The pool's size (concurrency limit; idle environments beyond it are reclaimed). @default 50 */
  readonly maxEnvironments?: number;
  /** The Zipf exponent of the tenants' traffic. @default 1.1 */
  readonly exponent?: number;
  readonly random: () => number;
}

/** What {@link coldStartsUnderLoad} counted for one mode. */
export interface ColdStartCount {
  readonly coldStartsPer1000: number;
  readonly environmentsCreated: number;
  readonly throttles: number;
  readonly tenantsSeen: number;
}

/**
 * Cold starts per 1,000 invocations of a skewed load over N tenants, shared vs `PER_TENANT`, on the pool model: the
 * fine print of tenant isolation mode (a warm environment of tenant A never serves tenant B), counted.
 */
export async function coldStartsUnderLoad(options: ColdStartLoadOptions): Promise<Record<TenancyMode, ColdStartCount>> {
  const invocations = options.invocations ?? 1000;
  const concurrency = options.concurrency ?? 4;
  const draws = Array.from(
    { length: invocations },
    () => `t${skewedTenant(options.random, options.tenants, options.exponent)}`,
  );
  const result = {} as Record<TenancyMode, ColdStartCount>;
  for (const mode of ['shared', 'PER_TENANT'] as const) {
    const pool = lambdaPool({
      mode,
      init: () => ({}),
      // Work that yields, so the invocations of one wave overlap and need environments of their own.
      handler: async () => new Promise<void>((resolve) => setImmediate(resolve)),
      maxEnvironments: options.maxEnvironments ?? 50,
    });
    for (let start = 0; start < draws.length; start += concurrency) {
      const wave = draws.slice(start, start + concurrency);
      await Promise.allSettled(wave.map((tenantId) => pool.invoke(undefined, { tenantId })));
    }
    const stats = pool.stats();
    result[mode] = {
      coldStartsPer1000: (stats.coldStarts * 1000) / invocations,
      environmentsCreated: stats.coldStarts,
      throttles: stats.throttles,
      tenantsSeen: stats.environmentsPerTenant.size,
    };
  }
  return result;
}
