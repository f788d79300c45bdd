import { describeSequentialGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describeSequentialGuarantees(embeddedTarget);
