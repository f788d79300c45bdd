import { describeWatchesGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describeWatchesGuarantees(embeddedTarget);
