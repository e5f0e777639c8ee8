import { scenarioHoldsOverSeeds } from '../../../test/lab.js';
import { tenantLeak } from './tenant-leak.js';

scenarioHoldsOverSeeds(tenantLeak);
