// The portable guarantee suite's stat area, run by a ZooKeeper-protocol client over the gateway.
import { describeStatGuarantees } from '@faaskeeper/core/testkit';
import { wireGatewayTarget } from '../support/wire-client-target.js';

describeStatGuarantees(wireGatewayTarget);
