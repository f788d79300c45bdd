// The portable guarantee suite's multi area, run by a ZooKeeper-protocol client over the gateway.
import { describeMultiGuarantees } from '@faaskeeper/core/testkit';
import { wireGatewayTarget } from '../support/wire-client-target.js';

describeMultiGuarantees(wireGatewayTarget);
