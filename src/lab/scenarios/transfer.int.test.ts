import { scenarioHoldsOverSeeds } from '../../../test/lab.js';
import { transfer } from './transfer.js';

scenarioHoldsOverSeeds(transfer);
