import { scenarioHoldsOverSeeds } from '../../../test/lab.js';
import { ambiguousRetry } from './ambiguous-retry.js';

scenarioHoldsOverSeeds(ambiguousRetry);
