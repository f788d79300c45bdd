import { describeSyncGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describeSyncGuarantees(embeddedTarget);
