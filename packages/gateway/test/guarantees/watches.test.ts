// The portable guarantee suite's watches area, run by a ZooKeeper-protocol client over the gateway.
import { describeWatchesGuarantees } from '@faaskeeper/core/testkit';
import { wireGatewayTarget } from '../support/wire-client-target.js';

describeWatchesGuarantees(wireGatewayTarget);
