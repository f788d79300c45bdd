import { describeHostileClientGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describeHostileClientGuarantees(embeddedTarget);
