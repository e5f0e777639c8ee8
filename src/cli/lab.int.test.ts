import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, inject, it } from 'vitest';
import { z } from 'zod';
import { describeWhen } from '../../test/engine.js';
import { jvmsOnPort } from '../../test/jvms.js';

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const run = (args: string[]) =>
  spawnSync(process.execPath, [...cli, ...args], { encoding: 'utf8', env, timeout: 240_000 });

const timelineEntry = z
  .object({
    race: z.number().int().nonnegative(),
    worker: z.number().int().nonnegative(),
    operation: z.string(),
    table: z.string().optional(),
    key: z.record(z.string(), z.unknown()).optional(),
    outcome: z.string(),
  })
  .strict();

/** The documented `--json` shape (docs/lab.md). */
const labJson = z
  .object({
    version: z.literal(1),
    engine: z.string(),
    seeds: z.array(z.number().int()),
    passed: z.boolean(),
    scenarios: z.array(
      z
        .object({
          name: z.string(),
          variant: z.enum(['naive', 'safe']),
          runs: z.number().int().nonnegative(),
          anomalies: z.number().int().nonnegative(),
          firstFailingSeed: z.number().int().nullable(),
          failingSeeds: z.array(z.number().int()),
          skipped: z.string().optional(),
          requests: z.number().int().nonnegative(),
          retries: z.number().int().nonnegative(),
          opsPerSecond: z.number().nonnegative(),
          latencyMs: z.object({ p50: z.number(), p99: z.number() }).strict(),
          example: z.array(z.string()),
          timeline: z.array(timelineEntry),
          shrunk: z
            .object({
              trials: z.number().int().nonnegative(),
              budget: z.number().int().nonnegative(),
              originalRequests: z.number().int().nonnegative(),
              requests: z.number().int().nonnegative(),
              size: z.object({ name: z.string(), from: z.number().int(), to: z.number().int() }).strict().optional(),
              faultsOff: z.array(z.enum(['crash', 'lostResponse', 'throttling', 'transactionConflict', 'latency'])),
              anomalies: z.array(z.string()),
              timeline: z.array(timelineEntry),
            })
            .strict()
            .nullable(),
          upstreamCalls: z.array(z.number()).optional(),
          measurements: z.record(z.string(), z.array(z.number())).optional(),
          nondeterministicRuns: z.number().int().nonnegative(),
        })
        .strict(),
    ),
  })
  .strict();

const onDynamoDBLocal = inject('engine').name === 'dynamodb-local';

const skipReason = 'the CLI starts its own engines, so runs once, in the dynamodb-local project';

describeWhen(onDynamoDBLocal, skipReason)('racesafe lab (CLI)', () => {
  it('prints JSON of the documented shape and exits 0 when every safe variant held', () => {
    const result = run(['lab', '--runs', '2', '--scenario', 'oversell,lost-update', '--json']);
    expect(result.status, result.stderr).toBe(0);
    const report = labJson.parse(JSON.parse(result.stdout));
    expect(report.engine).toBe('dynamodb-local');
    expect(report.passed).toBe(true);
    expect(report.scenarios.map((s) => `${s.name}/${s.variant}`)).toEqual([
      'lost-update/naive',
      'lost-update/safe',
      'oversell/naive',
      'oversell/safe',
    ]);
    expect(report.scenarios.find((s) => s.variant === 'naive')?.anomalies).toBeGreaterThan(0);
    // Each naive variant's first failing run comes shrunk: no more requests, and still an anomaly.
    for (const naive of report.scenarios.filter((s) => s.variant === 'naive' && s.anomalies > 0)) {
      const shrunk = naive.shrunk;
      expect(shrunk?.trials).toBeGreaterThan(0);
      expect(shrunk?.trials).toBeLessThanOrEqual(10);
      expect(shrunk?.requests).toBeLessThanOrEqual(shrunk?.originalRequests ?? 0);
      expect(shrunk?.anomalies.length).toBeGreaterThan(0);
    }
    expect(report.scenarios.filter((s) => s.variant === 'safe').map((s) => s.shrunk)).toEqual([null, null]);
    expect(result.stderr).toMatch(/lost-update\s+naive run 2\/2/);
  });

  it('replays one seed with --seed', { timeout: 240_000 }, () => {
    const first = JSON.parse(run(['lab', '--seed', '4', '--scenario', 'lost-update', '--json']).stdout);
    const again = JSON.parse(run(['lab', '--seed', '4', '--scenario', 'lost-update', '--json']).stdout);
    expect(first.seeds).toEqual([4]);
    expect(again.scenarios.map((s: { example: string[] }) => s.example)).toEqual(
      first.scenarios.map((s: { example: string[] }) => s.example),
    );
    // The replay shrinks the same way: the same minimal run.
    const minimal = (report: { scenarios: { shrunk: unknown }[] }) =>
      report.scenarios.map((s) => JSON.stringify(s.shrunk).replace(/lab_lost_update_\w+/g, 'lab_lost_update'));
    expect(minimal(again)).toEqual(minimal(first));
  });

  it('exits 2 with a clear message on bad usage', () => {
    for (const args of [
      ['lab', '--runs', '0'],
      ['lab', '--scenario', 'nope'],
      ['lab', '--bogus'],
      ['lab', '--engine', 'x'],
      ['frobnicate'],
    ]) {
      const result = run(args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/racesafe/);
    }
    expect(run(['lab', '--seed', '1', '--runs', '2']).stderr).toMatch(/cannot be combined/);
    const usage: [string[], RegExp][] = [
      [['lab', '--runs', '-3'], /^racesafe lab: --runs must be a whole number >= 1 \(got '-3'\)\n$/],
      [['lab', '--endpoint', 'not a url'], /^racesafe lab: --endpoint must be a URL .*\n$/],
      [['lab', '--endpoint', 'ftp://127.0.0.1:1'], /^racesafe lab: --endpoint must be an http or https URL.*\n$/],
      [
        ['lab', '--endpoint', 'http://127.0.0.1:1', '--scenario', 'lost-update'],
        /^racesafe lab: no DynamoDB answers at --endpoint http:\/\/127\.0\.0\.1:1 \(ECONNREFUSED\)\n$/,
      ],
      [
        ['lab', '--html', '/nonexistent-racesafe/report.html'],
        /^racesafe lab: --html: the folder \/nonexistent-racesafe does not exist/,
      ],
    ];
    for (const [args, message] of usage) {
      const result = run(args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('lists the scenarios and prints help', () => {
    const list = run(['lab', '--list']);
    expect(list.status).toBe(0);
    for (const name of [
      'stale-overwrite',
      'duplicate-delivery',
      'lost-update',
      'oversell',
      'cache-stampede',
      'zombie-lease',
      'ambiguous-retry',
      'multi-item-invariant',
    ]) {
      expect(list.stdout).toContain(name);
    }
    expect(run(['--help']).stdout).toMatch(/racesafe lab/);
    expect(run(['lab', '--help']).stdout).toMatch(/--seed <n>/);
  });

  it('reports what dynalite cannot run as skipped, with the reason', () => {
    const result = run(['lab', '--engine', 'dynalite', '--runs', '1', '--json']);
    expect(result.status, result.stderr).toBe(0);
    const report = labJson.parse(JSON.parse(result.stdout));
    const skipped = report.scenarios.filter((s) => s.skipped !== undefined);
    expect(skipped.map((s) => s.name)).toEqual(expect.arrayContaining(['stale-overwrite', 'multi-item-invariant']));
    expect(skipped.every((s) => /no (streams|transactions|ALL_OLD)/.test(s.skipped ?? ''))).toBe(true);
    // Since the kernel's exact retries use transactions, most stories need them; those that run, run once.
    expect(report.scenarios.every((s) => s.skipped !== undefined || s.runs === 1)).toBe(true);
  });

  it('leaves no engine running after Ctrl-C', async () => {
    const child = spawn(process.execPath, [...cli, 'lab', '--runs', '50'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<string>((resolve, reject) => {
        let seen = '';
        child.stderr.on('data', (chunk) => {
          seen += String(chunk);
          const match = /127\.0\.0\.1:(\d+)/.exec(seen);
          if (match?.[1]) resolve(match[1]);
        });
        child.once('exit', () => reject(new Error(`lab exited early: ${seen}`)));
      });
      expect(jvmsOnPort(port)).toHaveLength(1);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      await expect.poll(() => jvmsOnPort(port), { timeout: 10_000, interval: 200 }).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('writes an HTML report that renders offline in headless Chromium', () => {
    const dir = mkdtempSync(join(tmpdir(), 'racesafe-html-'));
    const file = join(dir, 'report.html');
    const result = run(['lab', '--runs', '2', '--scenario', 'oversell,ambiguous-retry', '--html', file]);
    expect(result.status, result.stderr).toBe(0);
    const html = readFileSync(file, 'utf8');
    expect(html).not.toMatch(/<script|https?:\/\//);
    const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));
    if (!chromium) throw new Error('headless Chromium is needed to check the HTML report: apt-get install chromium');
    const dom = execFileSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${mkdtempSync(join(tmpdir(), 'racesafe-chromium-'))}`,
        '--dump-dom',
        `file://${file}`,
      ],
      { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    expect(dom).toContain('racesafe lab report');
    expect(dom).toMatch(/<svg[^>]*id="chart-anomalies"/);
    expect(dom).not.toMatch(/p99|latency/i);
    expect(dom.match(/<rect class="naive"/g)?.length).toBeGreaterThanOrEqual(2);
    expect(dom).toMatch(/<td>oversell<\/td><td>safe<\/td>/);
    expect(dom).toMatch(/class="verdict pass"/);
    expect(dom).toMatch(/racesafe \d+\.\d+\.\d+ · engine: dynamodb-local/);
    // A replay command per failing naive seed, and the first failing run as a timeline.
    expect(dom).toMatch(/<code>node [^<]*src\/cli\/main\.ts lab --scenario oversell --seed \d+<\/code>/);
    expect(dom).toMatch(/<pre>#\s+who\s+request\s+outcome\n1\s+w\d/);
    // Shown shrunk: oversell's naive run with fewer orders.
    expect(dom).toMatch(/minimal failing run: \d+ requests, shrunk from \d+ \(orders 8 → \d\) in \d+ of 10 trials/);
  });
});
