import { describeSessionsGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describeSessionsGuarantees(embeddedTarget);
