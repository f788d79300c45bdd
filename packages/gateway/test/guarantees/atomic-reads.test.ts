// The portable guarantee suite's atomic-reads area, run by a ZooKeeper-protocol client over the gateway.
import { describeAtomicReadsGuarantees } from '@faaskeeper/core/testkit';
import { wireGatewayTarget } from '../support/wire-client-target.js';

describeAtomicReadsGuarantees(wireGatewayTarget);
