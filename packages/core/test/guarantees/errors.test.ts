import { describeErrorsGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describeErrorsGuarantees(embeddedTarget);
