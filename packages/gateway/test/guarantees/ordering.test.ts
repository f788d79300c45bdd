// The portable guarantee suite's ordering area, run by a ZooKeeper-protocol client over the gateway.
import { describeOrderingGuarantees } from '@faaskeeper/core/testkit';
import { wireGatewayTarget } from '../support/wire-client-target.js';

describeOrderingGuarantees(wireGatewayTarget);
