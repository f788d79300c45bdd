import { describeMultiGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describeMultiGuarantees(embeddedTarget);
