import { describeAclsGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describeAclsGuarantees(embeddedTarget);
