import { scenarioHoldsOverSeeds } from '../../../test/lab.js';
import { cacheStampede } from './cache-stampede.js';

scenarioHoldsOverSeeds(cacheStampede);
