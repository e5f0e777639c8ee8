import { describe, expect, it } from 'vitest';
import { RacesafeError } from '../errors.js';
import { coldStartsUnderLoad, lambdaPool, skewedTenant } from './lambda-pool.js';
import { seededRandom } from './random.js';

/** A module whose scope remembers what it served, the way a module-scope cache does in Lambda. */
const rememberingModule = () => ({ served: [] as string[] });

describe('the Lambda environment pool model', () => {
  it('shared: one warm environment serves every tenant, and its module scope carries over between them', async () => {
    const pool = lambdaPool({
      mode: 'shared',
      init: rememberingModule,
      handler: (module, event: { tenant: string }, context) => {
        module.served.push(event.tenant);
        return { seen: [...module.served], tenantId: context.tenantId };
      },
    });
    await pool.invoke({ tenant: 'blue' }, { tenantId: 'blue' });
    const green = await pool.invoke({ tenant: 'green' }, { tenantId: 'green' });
    expect(green).toEqual({ seen: ['blue', 'green'], tenantId: undefined }); // green's invocation saw blue's memory
    expect(pool.stats()).toMatchObject({
      invocations: 2,
      coldStarts: 1,
      environments: 1,
      tenantsPerEnvironment: [['blue', 'green']],
    });
  });

  it('PER_TENANT: each tenant gets environments of its own, context.tenantId is set, and a tenant id is required', async () => {
    const pool = lambdaPool({
      mode: 'PER_TENANT',
      init: rememberingModule,
      handler: (module, _event: unknown, context) => {
        module.served.push(String(context.tenantId));
        return [...module.served];
      },
    });
    await pool.invoke({}, { tenantId: 'blue' });
    expect(await pool.invoke({}, { tenantId: 'green' })).toEqual(['green']);
    expect(await pool.invoke({}, { tenantId: 'blue' })).toEqual(['blue', 'blue']); // warm, its own memory
    const stats = pool.stats();
    expect([stats.coldStarts, stats.environments]).toEqual([2, 2]);
    expect(stats.coldStartsPerTenant).toEqual(
      new Map([
        ['blue', 1],
        ['green', 1],
      ]),
    );
    expect(stats.tenantsPerEnvironment).toEqual([['blue'], ['green']]);
    await expect(pool.invoke({})).rejects.toBeInstanceOf(RacesafeError);
  });

  it('concurrent invocations need an environment each; a full pool reclaims the least recently used idle one, or throttles', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inits = 0;
    const pool = lambdaPool({
      mode: 'PER_TENANT',
      maxEnvironments: 2,
      init: () => ++inits,
      handler: async (module, event: { wait: boolean }) => {
        if (event.wait) await gate;
        return module;
      },
    });
    const first = pool.invoke({ wait: true }, { tenantId: 'blue' });
    const second = pool.invoke({ wait: true }, { tenantId: 'blue' });
    await expect(pool.invoke({ wait: false }, { tenantId: 'green' })).rejects.toMatchObject({
      name: 'TooManyRequestsException',
    });
    release();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(await pool.invoke({ wait: false }, { tenantId: 'green' })).toBe(3); // reclaimed blue's older environment
    expect(pool.stats()).toMatchObject({ coldStarts: 3, throttles: 1, environments: 2 });
  });

  it('skewed tenants: tenant 0 is drawn most often, every tenant can be drawn', () => {
    const random = seededRandom(15);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 5000; i++) counts[skewedTenant(random, 10)] += 1;
    expect(counts[0]).toBeGreaterThan(counts[9] * 4);
    expect(counts.every((count) => count > 0)).toBe(true);
  });

  it('cold starts under a skewed load: PER_TENANT pays at least one per tenant seen, shared at most one per concurrent invocation', async () => {
    const counted = await coldStartsUnderLoad({
      tenants: 50,
      concurrency: 4,
      maxEnvironments: 1000,
      random: seededRandom(7),
    });
    expect(counted.shared.environmentsCreated).toBeLessThanOrEqual(4);
    expect(counted.PER_TENANT.environmentsCreated).toBeGreaterThanOrEqual(counted.PER_TENANT.tenantsSeen);
    expect(counted.PER_TENANT.coldStartsPer1000).toBeGreaterThan(counted.shared.coldStartsPer1000);
  });
});
