/** @module Scenario: one Lambda function for all tenants; module-scope and DynamoDB caches and idempotency keys without the tenant leak one tenant's data to another. */
import type { Context } from 'aws-lambda';
import { cached } from '../../lease/cached.js';
import { idempotentHandler } from '../../lease/idempotent.js';
import type { Table } from '../../table.js';
import { tenantHandler } from '../../tenant/handler.js';
import { coldStartsUnderLoad, lambdaPool } from '../../testing/lambda-pool.js';
import { randomInt, seededRandom } from '../../testing/random.js';
import { workerFailures } from '../runner.js';
import type { Scenario } from '../scenario.js';

const tenants = ['blue', 'green', 'red'] as const;
const invocations = 12;
const waveSize = 4;

/** An API request: tenant `tenant` asks for `profileKey`, retried by its client under `requestKey`. */
interface ProfileRequest {
  readonly tenant: string;
  readonly requestKey: string;
  readonly profileKey: string;
}

/** What the function answers; `owner` says whose data it is. */
interface ProfileResponse {
  readonly owner: string;
  readonly profile: string;
}

/** The tenant's own data, as the slow upstream would return it. */
const loadProfile = async (tenant: string, profileKey: string): Promise<ProfileResponse> => ({
  owner: tenant,
  profile: `${tenant}:${profileKey}`,
});

/**
 * The story's function: a module-scope cache keyed by profile, `cached()` and `idempotentHandler` keyed by what the
 * request says, and the tenant read from the event. On a shared function every key is shared by every tenant.
 */
function naiveModule(table: Table) {
  const memory = new Map<string, ProfileResponse>();
  const handler = idempotentHandler(
    async (event: ProfileRequest): Promise<ProfileResponse> => {
      const hit = memory.get(event.profileKey);
      if (hit) return hit;
      const profile = await cached(table, `profile#${event.profileKey}`, () =>
        loadProfile(event.tenant, event.profileKey),
      );
      memory.set(event.profileKey, profile);
      return profile;
    },
    { table, key: (event) => `request#${event.requestKey}` },
  );
  return { handler };
}

/**
 * The same code under tenant isolation mode: `PER_TENANT` routing gives each tenant its own environments (so its
 * own module scope), `tenantHandler` takes the tenant from `context.tenantId` and scopes the tables, and
 * `idempotentHandler` scopes its records by that tenant too.
 */
function safeModule(table: Table) {
  const memory = new Map<string, ProfileResponse>();
  const inner = tenantHandler(
    async (event: ProfileRequest, _context: Context, { tenantId, tables }): Promise<ProfileResponse> => {
      const hit = memory.get(event.profileKey);
      if (hit) return hit;
      const profile = await cached(tables.cache, `profile#${event.profileKey}`, () =>
        loadProfile(tenantId, event.profileKey),
      );
      memory.set(event.profileKey, profile);
      return profile;
    },
    { tables: { cache: table } },
  );
  const handler = idempotentHandler(inner, { table, key: (event) => `request#${event.requestKey}` });
  return { handler };
}

export const tenantLeak: Scenario = {
  name: 'tenant-leak',
  summary: `${invocations} API requests (3 waves of ${waveSize}) from ${tenants.length} tenants reuse the same request and profile keys; on one shared function with a module-scope cache and tenant-less idempotency and cache keys, a tenant receives another tenant's data; PER_TENANT routing with tenantHandler and tenant-scoped keys returns each tenant only its own.`,
  invariant: 'every response holds only the requesting tenant’s data',
  // Leases fall back to a consistent read where the engine returns no ALL_OLD (dynalite): the story runs anywhere.
  requires: [],
  async run(context) {
    const { table } = await context.table({ ttlAttribute: 'expiresAt' });
    const safe = context.variant === 'safe';
    const pool = lambdaPool({
      mode: safe ? 'PER_TENANT' : 'shared',
      init: () => (safe ? safeModule(table) : naiveModule(table)),
      handler: (module, event: ProfileRequest, lambdaContext) => module.handler(event, lambdaContext),
    });
    const requests: ProfileRequest[] = Array.from({ length: invocations }, () => ({
      tenant: tenants[randomInt(context.random, tenants.length)] as string,
      requestKey: `r${randomInt(context.random, 3)}`,
      profileKey: `p${randomInt(context.random, 2)}`,
    }));
    // Three waves of four concurrent requests: later waves land on warm environments and meet their module scope.
    const results: PromiseSettledResult<ProfileResponse>[] = [];
    for (let wave = 0; wave < invocations; wave += waveSize) {
      const run = await context.race(
        requests
          .slice(wave, wave + waveSize)
          .map((request) => () => pool.invoke(request, safe ? { tenantId: request.tenant } : {})),
      );
      results.push(...run.results);
    }
    const anomalies = workerFailures(results, () => false);
    let leakedResponses = 0;
    results.forEach((result, index) => {
      const asked = requests[index] as ProfileRequest;
      if (result.status === 'fulfilled' && result.value.owner !== asked.tenant) {
        leakedResponses += 1;
        anomalies.push(
          `request ${index} of tenant ${asked.tenant} received tenant ${result.value.owner}'s ${result.value.profile}`,
        );
      }
    });
    const stats = pool.stats();
    const shared = stats.tenantsPerEnvironment.filter((served) => served.length > 1).length;
    if (safe && shared > 0) anomalies.push(`${shared} execution environments served more than one tenant`);
    // The fine print, counted on the pool model: cold starts per 1,000 invocations of a skewed load over N tenants.
    const load = await coldStartsUnderLoad({
      tenants: 20,
      concurrency: 4,
      maxEnvironments: 50,
      random: seededRandom(context.seed),
    });
    const mode = safe ? 'PER_TENANT' : 'shared';
    return {
      anomalies,
      measurements: {
        leakedResponses,
        coldStarts: stats.coldStarts,
        environments: stats.environments,
        coldStartsPer1000SkewedLoad20Tenants: load[mode].coldStartsPer1000,
      },
    };
  },
};
