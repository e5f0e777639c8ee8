/** @module `npm run synth`: synthesizes the reference deployments offline into cdk.out/ (esbuild bundles, no Docker). */
import { buildApp } from './stacks.js';

const { app } = buildApp(process.env.CDK_OUTDIR ?? 'cdk.out');
app.synth();
