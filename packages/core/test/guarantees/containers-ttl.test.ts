import { describeContainersTtlGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describeContainersTtlGuarantees(embeddedTarget);
