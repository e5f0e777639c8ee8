import { scenarioHoldsOverSeeds } from '../../../test/lab.js';
import { lostUpdate } from './lost-update.js';

scenarioHoldsOverSeeds(lostUpdate);
