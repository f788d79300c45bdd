// The portable guarantee suite's sequential area, run by a ZooKeeper-protocol client over the gateway.
import { describeSequentialGuarantees } from '@faaskeeper/core/testkit';
import { wireGatewayTarget } from '../support/wire-client-target.js';

describeSequentialGuarantees(wireGatewayTarget);
