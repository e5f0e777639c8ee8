import { scenarioHoldsOverSeeds } from '../../../test/lab.js';
import { oversell } from './oversell.js';

scenarioHoldsOverSeeds(oversell);
