import { scenarioHoldsOverSeeds } from '../../../test/lab.js';
import { duplicateDelivery } from './duplicate-delivery.js';

scenarioHoldsOverSeeds(duplicateDelivery);
