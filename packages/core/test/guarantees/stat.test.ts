import { describeStatGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describeStatGuarantees(embeddedTarget);
