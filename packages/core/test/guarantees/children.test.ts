import { describeChildrenGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describeChildrenGuarantees(embeddedTarget);
