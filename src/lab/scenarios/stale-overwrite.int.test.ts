import { scenarioHoldsOverSeeds } from '../../../test/lab.js';
import { staleOverwrite } from './stale-overwrite.js';

scenarioHoldsOverSeeds(staleOverwrite);
