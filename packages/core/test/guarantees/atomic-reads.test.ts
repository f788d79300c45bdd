import { describeAtomicReadsGuarantees, embeddedTarget } from '../../src/testkit/index.js';

describeAtomicReadsGuarantees(embeddedTarget);
