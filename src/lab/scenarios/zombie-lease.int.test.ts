import { scenarioHoldsOverSeeds } from '../../../test/lab.js';
import { zombieLease } from './zombie-lease.js';

scenarioHoldsOverSeeds(zombieLease);
