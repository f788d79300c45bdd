import { describeOrderingGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describeOrderingGuarantees(embeddedTarget);
