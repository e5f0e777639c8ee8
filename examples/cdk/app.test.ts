import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './stacks.js';

/** The consumer's bundle must stay small: racesafe + Powertools logger and metrics + the SDK's error classifier. */
const consumerBundleBudgetBytes = 96 * 1024;

let outdir: string;
let built: ReturnType<typeof buildApp>;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'racesafe-cdk-'));
  built = buildApp(outdir);
  // Synthesis runs cdk-nag's AWS Solutions rules (a validation plugin) and throws on any unacknowledged finding.
  built.app.synth();
}, 120_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const cfnLintAvailable = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;

describe('the reference deployments (examples/cdk)', { timeout: 120_000 }, () => {
  it('synthesizes offline with no cdk-nag finding left unacknowledged, each acknowledgment with its reason', () => {
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{
        pluginName: string;
        conclusion: string;
        violations: unknown[];
        suppressedViolations: Array<{ ruleName: string; reason: string; violatingConstructs: unknown[] }>;
      }>;
    };
    const [nag] = report.pluginReports;
    expect(nag?.pluginName).toBe('AwsSolutions');
    expect(nag?.conclusion).toBe('success');
    expect(nag?.violations).toEqual([]);
    const suppressed = nag?.suppressedViolations ?? [];
    // Exactly these, all on the tenant API: no authorizer and no WAF in the reference deployment, no account-wide
    // API Gateway logging role in a library construct. The pipeline stack has none.
    expect(suppressed.map((finding) => finding.ruleName).sort()).toEqual([
      'AwsSolutions-APIG3',
      'AwsSolutions-APIG4',
      'AwsSolutions-APIG4',
      'AwsSolutions-APIG6',
      'AwsSolutions-COG4',
      'AwsSolutions-COG4',
    ]);
    for (const finding of suppressed) expect(finding.reason.length, finding.ruleName).toBeGreaterThan(80);
  });

  it('deploys the pipeline: Kinesis, consumer on it with the on-failure queue, state table with stream and TTL', () => {
    const template = Template.fromStack(built.pipeline);
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ParallelizationFactor: 4,
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    template.resourceCountIs('AWS::CloudWatch::InsightRule', 1);
    Template.fromStack(built.tenants).hasResourceProperties('AWS::Lambda::Function', {
      TenancyConfig: { TenantIsolationMode: 'PER_TENANT' },
    });
  });

  it('passes cfn-lint (where it is installed)', () => {
    if (!cfnLintAvailable) {
      console.warn('cfn-lint is not installed: the cfn-lint check of the synthesized templates was SKIPPED');
      return;
    }
    const templates = readdirSync(outdir)
      .filter((file) => file.endsWith('.template.json'))
      .map((file) => join(outdir, file));
    expect(templates).toHaveLength(2);
    // W3005: the CDK adds a DependsOn on the function's role next to the GetAtt that already orders them.
    const lint = spawnSync('cfn-lint', ['--ignore-checks', 'W3005', '--', ...templates], { encoding: 'utf8' });
    expect(lint.stdout + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
  });

  it("bundles the consumer with esbuild as NodejsFunction does, and reports the bundle's size", () => {
    const assets = JSON.parse(readFileSync(join(outdir, `${built.pipeline.artifactId}.assets.json`), 'utf8')) as {
      files: Record<string, { source: { path: string } }>;
    };
    const consumerAsset = Object.values(assets.files)
      .map((file) => join(outdir, file.source.path, 'index.mjs'))
      .filter((file) => {
        try {
          return (
            readFileSync(file, 'utf8').includes('state-consumer') || readFileSync(file, 'utf8').includes('putIfNewer')
          );
        } catch {
          return false;
        }
      });
    expect(consumerAsset).toHaveLength(1);
    const file = consumerAsset[0] as string;
    const bytes = statSync(file).size;
    console.log(`consumer bundle: ${(bytes / 1024).toFixed(1)} KB minified (ESM, AWS SDK external), ${file}`);
    expect(bytes).toBeLessThan(consumerBundleBudgetBytes);
    const code = readFileSync(file, 'utf8');
    // The SDK stays external: imported from the runtime, not bundled.
    expect(code).toMatch(/from"@aws-sdk\/client-dynamodb"/);
    expect(code).not.toMatch(/sourceMappingURL/);
    // It runs: the bundle is a valid ES module for the runtime's Node.
    execFileSync(process.execPath, ['--check', file]);
  });
});
