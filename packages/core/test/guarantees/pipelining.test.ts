import { describePipeliningGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describePipeliningGuarantees(embeddedTarget);
