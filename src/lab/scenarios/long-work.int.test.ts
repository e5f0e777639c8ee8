import { scenarioHoldsOverSeeds } from '../../../test/lab.js';
import { longWork } from './long-work.js';

scenarioHoldsOverSeeds(longWork);
